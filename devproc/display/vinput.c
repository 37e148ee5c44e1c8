/* vinput.c: written in issue 13 */
