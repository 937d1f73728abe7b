/*
 * TEST DOUBLE of the real libcudnn.so.9, for CI without a GPU. It computes nothing: it exports
 * every symbol the compatibility layer resolves, logs the calls that the layer translates (with
 * their arguments) to $CUDNN_DOUBLE_LOG, returns $CUDNN_DOUBLE_STATUS (default 0) from the rest
 * (3000 from the one $CUDNN_DOUBLE_FAIL names), and serves one ranked algorithm list from
 * $CUDNN_DOUBLE_FWD_PERF ("algo:bytes:math,...") to the forward and both backward algorithm
 * queries and workspace-size calls.
 * Build: cc -shared -fPIC -o libcudnn.so.9 cudnn9_double.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
static void note(const char *fmt, ...) {
    const char *path = getenv("CUDNN_DOUBLE_LOG");
    if (path == NULL)
        return;
    FILE *f = fopen(path, "a");
    if (f == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

static int status(void) {
    const char *s = getenv("CUDNN_DOUBLE_STATUS");
    return s ? atoi(s) : 0;
}

size_t cudnnGetVersion(void) { return 91900; }

/* Calls the layer reads back from or translates: real argument lists. */
int cudnnGetTensor4dDescriptor(void *d, int *type, int *n, int *c, int *h, int *w, int *ns, int *cs, int *hs,
                               int *ws) {
    (void)d;
    const char *t = getenv("CUDNN_DOUBLE_DTYPE"), *batch = getenv("CUDNN_DOUBLE_N");
    *type = t ? atoi(t) : 0;
    *h = *w = *ns = *cs = *hs = *ws = 1;
    *n = batch ? atoi(batch) : 1;
    *c = (int)(uintptr_t)d; /* descriptors told apart by their address */
    return status();
}
int cudnnGetFilter4dDescriptor(void *d, int *type, int *format, int *k, int *c, int *h, int *w) {
    *type = *format = 0;
    *c = *h = *w = 1;
    *k = (int)(uintptr_t)d;
    return status();
}

static int conv[8] = {0, 0, 1, 1, 1, 1, 1, 0}; /* pad_h pad_w u v dil_h dil_w mode compute */
int cudnnSetConvolution2dDescriptor(void *d, int ph, int pw, int u, int v, int dh, int dw, int mode, int compute) {
    (void)d;
    note("cudnnSetConvolution2dDescriptor %d %d %d %d %d %d %d %d", ph, pw, u, v, dh, dw, mode, compute);
    int values[8] = {ph, pw, u, v, dh, dw, mode, compute};
    memcpy(conv, values, sizeof conv);
    return status();
}
int cudnnGetConvolution2dDescriptor(void *d, int *ph, int *pw, int *u, int *v, int *dh, int *dw, int *mode,
                                    int *compute) {
    (void)d;
    *ph = conv[0], *pw = conv[1], *u = conv[2], *v = conv[3], *dh = conv[4], *dw = conv[5], *mode = conv[6];
    *compute = conv[7];
    return status();
}
static int math_type;
int cudnnSetConvolutionMathType(void *d, int math) {
    (void)d;
    note("cudnnSetConvolutionMathType %d", math);
    math_type = math;
    return status();
}
int cudnnGetConvolutionMathType(void *d, int *math) {
    (void)d;
    *math = math_type;
    return status();
}
int cudnnSetFilter4dDescriptor(void *d, int type, int format, int k, int c, int h, int w) {
    (void)d;
    note("cudnnSetFilter4dDescriptor %d %d %d %d %d %d", type, format, k, c, h, w);
    return status();
}
int cudnnSetPooling2dDescriptor(void *d, int mode, int nan, int h, int w, int vp, int hp, int vs, int hs) {
    (void)d;
    note("cudnnSetPooling2dDescriptor %d %d %d %d %d %d %d %d", mode, nan, h, w, vp, hp, vs, hs);
    return status();
}

typedef struct {
    int algo, status;
    float time;
    size_t memory;
    int determinism, mathType, reserved[3];
} perf_t;
static int ranked(perf_t *out, int cap) {
    const char *spec = getenv("CUDNN_DOUBLE_FWD_PERF");
    int n = 0;
    while (spec && *spec && n < cap) {
        perf_t p = {0};
        unsigned long long mem = 0;
        if (sscanf(spec, "%d:%llu:%d", &p.algo, &mem, &p.mathType) != 3)
            break;
        p.memory = (size_t)mem;
        out[n++] = p;
        spec = strchr(spec, ',');
        spec = spec ? spec + 1 : NULL;
    }
    return n;
}
int cudnnGetConvolutionForwardAlgorithm_v7(void *h, void *x, void *w, void *c, void *y, int cap, int *count,
                                           perf_t *perf) {
    (void)h, (void)x, (void)w, (void)c, (void)y;
    *count = ranked(perf, cap);
    return status();
}
int cudnnGetConvolutionForwardWorkspaceSize(void *h, void *x, void *w, void *c, void *y, int algo, size_t *size) {
    (void)h, (void)x, (void)w, (void)c, (void)y;
    note("workspace size for algorithm %d", algo);
    perf_t perf[16];
    int n = ranked(perf, 16);
    *size = 0;
    for (int i = 0; i < n; i++)
        if (perf[i].algo == algo)
            *size = perf[i].memory;
    return status();
}
/* The backward queries take the same arguments in the same places. */
int cudnnGetConvolutionBackwardFilterAlgorithm_v7(void *h, void *x, void *dy, void *c, void *dw, int cap, int *count,
                                                  perf_t *perf) {
    note("cudnnGetConvolutionBackwardFilterAlgorithm_v7");
    return cudnnGetConvolutionForwardAlgorithm_v7(h, x, dy, c, dw, cap, count, perf);
}
int cudnnGetConvolutionBackwardDataAlgorithm_v7(void *h, void *w, void *dy, void *c, void *dx, int cap, int *count,
                                                perf_t *perf) {
    note("cudnnGetConvolutionBackwardDataAlgorithm_v7");
    return cudnnGetConvolutionForwardAlgorithm_v7(h, w, dy, c, dx, cap, count, perf);
}
int cudnnGetConvolutionBackwardFilterWorkspaceSize(void *h, void *x, void *dy, void *c, void *dw, int algo,
                                                   size_t *size) {
    return cudnnGetConvolutionForwardWorkspaceSize(h, x, dy, c, dw, algo, size);
}
int cudnnGetConvolutionBackwardDataWorkspaceSize(void *h, void *w, void *dy, void *c, void *dx, int algo,
                                                 size_t *size) {
    return cudnnGetConvolutionForwardWorkspaceSize(h, w, dy, c, dx, algo, size);
}
int cudnnConvolutionBackwardFilter(void *h, void *a, void *xd, void *x, void *dyd, void *dy, void *c, int algo,
                                   void *work, size_t size, void *b, void *dwd, void *dw) {
    (void)h, (void)a, (void)xd, (void)x, (void)dyd, (void)dy, (void)c, (void)b, (void)dwd, (void)dw;
    note("cudnnConvolutionBackwardFilter algorithm %d workspace %p %zu", algo, work, size);
    return status();
}
int cudnnConvolutionBackwardData(void *h, void *a, void *wd, void *w, void *dyd, void *dy, void *c, int algo,
                                 void *work, size_t size, void *b, void *dxd, void *dx) {
    (void)h, (void)a, (void)wd, (void)w, (void)dyd, (void)dy, (void)c, (void)b, (void)dxd, (void)dx;
    note("cudnnConvolutionBackwardData algorithm %d workspace %p %zu", algo, work, size);
    return status();
}

int cudnnCreate(void **handle) {
    *handle = (void *)0x1;
    return status();
}

/* The rest: log the name, return the status; $CUDNN_DOUBLE_FAIL names one that fails alone with
 * 3000 (cuDNN 9's NOT_SUPPORTED group), as a call whose sub-library is missing does. */
static int fails(const char *name) {
    const char *which = getenv("CUDNN_DOUBLE_FAIL");
    return which != NULL && strcmp(which, name) == 0;
}
#define STUB(name)                                                                                     \
    int name(void) {                                                                                   \
        note(#name);                                                                                   \
        return fails(#name) ? 3000 : status();                                                         \
    }
STUB(cudnnDestroy)
STUB(cudnnSetStream)
STUB(cudnnGetStream)
STUB(cudnnCreateTensorDescriptor)
STUB(cudnnSetTensor4dDescriptor)
STUB(cudnnSetTensor4dDescriptorEx)
STUB(cudnnDestroyTensorDescriptor)
STUB(cudnnTransformTensor)
STUB(cudnnAddTensor)
STUB(cudnnSetTensor)
STUB(cudnnCreateFilterDescriptor)
STUB(cudnnDestroyFilterDescriptor)
STUB(cudnnCreateConvolutionDescriptor)
STUB(cudnnDestroyConvolutionDescriptor)
STUB(cudnnConvolutionForward)
STUB(cudnnConvolutionBackwardBias)
STUB(cudnnSoftmaxForward)
STUB(cudnnSoftmaxBackward)
STUB(cudnnCreatePoolingDescriptor)
STUB(cudnnDestroyPoolingDescriptor)
STUB(cudnnPoolingForward)
STUB(cudnnPoolingBackward)
STUB(cudnnCreateActivationDescriptor)
STUB(cudnnSetActivationDescriptor)
STUB(cudnnDestroyActivationDescriptor)
STUB(cudnnActivationForward)
STUB(cudnnActivationBackward)
