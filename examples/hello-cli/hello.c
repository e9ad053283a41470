#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--version") == 0) { puts("hello 2.0.1"); return 0; }
  FILE *conf = fopen("/etc/hello-cli/hello.conf", "r");
  char greeting[128] = "hello";
  if (conf) { if (!fgets(greeting, sizeof greeting, conf)) greeting[0] = 0; fclose(conf); }
  greeting[strcspn(greeting, "\n")] = 0;
  printf("%s, %s\n", greeting, argc > 1 ? argv[1] : "world");
  return 0;
}
