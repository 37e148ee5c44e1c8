/* keymap.c: written in issue 13 */
