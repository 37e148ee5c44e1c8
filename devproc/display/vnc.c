/* vnc.c: written in issue 13 */
