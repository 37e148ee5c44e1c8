/* rfb.c: written in issue 13 */
