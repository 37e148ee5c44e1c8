/* placeholder: being written */
#include "fw_cfg.h"
