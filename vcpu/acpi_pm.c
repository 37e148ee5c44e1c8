/* placeholder: being written */
#include "acpi_pm.h"
