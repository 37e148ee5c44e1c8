/* placeholder: being written */
#include "acpi.h"
