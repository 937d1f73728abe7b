/*
 * Loads a built layer the way Mocha does (dlopen by path) and prints, as one JSON line, which
 * Mocha generation it serves and which real cuDNN it forwards to. Needs no GPU: the layer opens
 * the real libcudnn and reads its version, then creates and destroys one descriptor of each kind
 * Mocha's layers set up. cuDNN 9 opens the sub-library behind a call on first use, so a
 * missing one (libcudnn_cnn.so.9, say) fails here, at provisioning, rather than when Mocha builds
 * its network. Exit 1 with a one-line reason on stderr (after the layer's or cuDNN's own message)
 * when it cannot forward. The role records the JSON line in results.json.
 */
#include <dlfcn.h>
#include <limits.h>
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
    static char path[PATH_MAX]; /* the layer's own buffer is this size */
    int status = info(&generation, &version, path, sizeof path);
    if (status != 0) { /* the layer has said why on stderr, except for 3 (BAD_PARAM): path too long */
        if (status == 3)
            fprintf(stderr, "mocha cudnn_compat probe: the real cuDNN's path does not fit in PATH_MAX (%d bytes)\n",
                    PATH_MAX);
        return 1;
    }
    static const char *const kinds[] = {"Tensor", "Filter", "Convolution", "Pooling"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char create_name[64], destroy_name[64];
        snprintf(create_name, sizeof create_name, "cudnnCreate%sDescriptor", kinds[i]);
        snprintf(destroy_name, sizeof destroy_name, "cudnnDestroy%sDescriptor", kinds[i]);
        void *create_sym = dlsym(layer, create_name), *destroy_sym = dlsym(layer, destroy_name);
        if (create_sym == NULL || destroy_sym == NULL) {
            fprintf(stderr, "mocha cudnn_compat probe: %s lacks %s or %s\n", argv[1], create_name, destroy_name);
            return 1;
        }
        int (*create)(void **), (*destroy)(void *);
        memcpy(&create, &create_sym, sizeof create_sym);
        memcpy(&destroy, &destroy_sym, sizeof destroy_sym);
        void *desc = NULL;
        status = create(&desc);
        if (status != 0) {
            fprintf(stderr, "mocha cudnn_compat probe: %s returned cuDNN status %d through %s; %s lacks a part "
                            "Mocha needs\n",
                    create_name, status, argv[1], path);
            return 1;
        }
        destroy(desc);
    }
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
