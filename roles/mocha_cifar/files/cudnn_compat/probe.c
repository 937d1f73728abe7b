/*
 * Loads a built layer the way Mocha does (dlopen by path) and prints, as one JSON line, which
 * Mocha generation it serves and which real cuDNN it forwards to. Needs no GPU: the layer only
 * opens the real libcudnn and reads its version. Exit 1 (with the layer's own one-line reason on
 * stderr) when it has nothing to forward to. The role records this line in results.json.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s /path/to/libcudnn.so (the layer)\n", argv[0]);
        return 2;
    }
    void *layer = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (layer == NULL) {
        fprintf(stderr, "mocha cudnn_compat probe: %s\n", dlerror());
        return 1;
    }
    int (*info)(int *, size_t *, char *, size_t);
    void *sym = dlsym(layer, "mochaCudnnCompatInfo");
    if (sym == NULL) {
        fprintf(stderr, "mocha cudnn_compat probe: %s is not the compatibility layer\n", argv[1]);
        return 1;
    }
    memcpy(&info, &sym, sizeof sym);
    int generation = 0;
    size_t version = 0;
    char path[512] = "";
    int status = info(&generation, &version, path, sizeof path);
    if (status != 0)
        return 1;
    printf("{\"generation\": %d, \"cudnn_version\": %zu, \"forwards_to\": \"", generation, version);
    for (const char *c = path; *c; c++) /* JSON string: escape quotes, backslashes, controls */
        if (*c == '"' || *c == '\\')
            printf("\\%c", *c);
        else if ((unsigned char)*c < 0x20)
            printf("\\u%04x", (unsigned char)*c);
        else
            putchar(*c);
    printf("\"}\n");
    return 0;
}
