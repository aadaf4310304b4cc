/* The stub main the layering check links each component library against
 * (see the Makefile's "layering" section); it is never run. */
int main(void);

int main(void)
{
	return 0;
}
