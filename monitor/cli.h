#pragma once

/* The whole of `moat ARGS...`: returns the process exit status. */
int mon_main(int argc, char **argv);
