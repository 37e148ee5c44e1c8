/* moat-display: placeholder until the process lands (issue 13). */
int main(void)
{
	return 1;
}
