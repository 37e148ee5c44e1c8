/* rfb_pixel.c: written in issue 13 */
