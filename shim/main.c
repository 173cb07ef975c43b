/* nscell-shim: the web server's launcher (shim/shim_main.c). */
#include "shim/shim.h"

int main(int argc, char **argv)
{
	return shim_main(argc, argv);
}
