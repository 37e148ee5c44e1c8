#pragma once
#include <stdio.h>

void mon_usage(FILE *f);
void mon_usage_run(FILE *f);
void mon_usage_config(FILE *f);
