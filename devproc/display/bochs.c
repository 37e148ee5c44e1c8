/* bochs.c: written in issue 13 */
