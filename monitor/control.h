/* The control socket (placeholder). */
#pragma once
