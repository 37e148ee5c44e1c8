/* `moat img info IMAGE`: what an image is (format, virtual size, backing
 * chain, allocation), in the style of `qemu-img info --backing-chain`,
 * with the image parsed by `moat-blk probe` in its sandbox and the chain
 * resolved by the rules a VM's disk follows (image_chain.h). */
#pragma once

int mon_img_main(int argc, char **argv);
