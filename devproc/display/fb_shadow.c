/* fb_shadow.c: written in issue 13 */
