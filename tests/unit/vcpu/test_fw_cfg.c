/* placeholder: being written */
#include "tap.h"
static int t_todo(void) { return TEST_SKIP; }
TAP_MAIN(TEST(t_todo))
