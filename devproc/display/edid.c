/* edid.c: written in issue 13 */
