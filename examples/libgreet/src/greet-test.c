#include <stdio.h>
#include <string.h>
#include "greet.h"

int main(void) {
  char buf[64];
  greet(buf, sizeof buf, "kiln");
  if (strcmp(buf, "hello, kiln") != 0) { fprintf(stderr, "got %s\n", buf); return 1; }
  puts("ok");
  return 0;
}
