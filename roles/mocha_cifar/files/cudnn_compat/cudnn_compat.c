/*
 * mocha-ansible's cuDNN compatibility layer: the cuDNN entry points one Mocha.jl API
 * generation calls, with the argument lists of Mocha's ccalls, forwarded to the host's
 * cuDNN 9 or 8 (dlopen by versioned name). Built as libcudnn.so so that Mocha's
 * find_library(["libcudnn"]) picks it from a private folder first on LD_LIBRARY_PATH.
 *
 *   cc -DMOCHA_CUDNN_GEN=4 ...   Mocha v0.1.2 / v0.2.0 (cuDNN v4-era calls)
 *   cc -DMOCHA_CUDNN_GEN=5 ...   Mocha v0.3.x (cuDNN v5-era calls)
 *
 * Which entry point does what, and where each fact was read, is the table in
 * ../../vars/cudnn_compat.yml; the tests check this file's exports and arities against it.
 * NVIDIA's headers are not used: the few types and values below are the documented ones
 * (sources [cudnn9] and [h200] in that table).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(MOCHA_CUDNN_GEN) || (MOCHA_CUDNN_GEN != 4 && MOCHA_CUDNN_GEN != 5)
#error "build with -DMOCHA_CUDNN_GEN=4 (Mocha v0.1.2/v0.2.0) or -DMOCHA_CUDNN_GEN=5 (Mocha v0.3.x)"
#endif

/* Only the entry points (and mochaCudnnCompatInfo) leave the library; build with -fvisibility=hidden. */
#define API __attribute__((visibility("default")))

/* cudnnStatus_t as Mocha knows it (cudnn.jl's table, the cuDNN v4/v5 values). */
typedef int status_t;
enum {
    ST_SUCCESS = 0,
    ST_NOT_INITIALIZED = 1,
    ST_ALLOC_FAILED = 2,
    ST_BAD_PARAM = 3,
    ST_INTERNAL_ERROR = 4,
    ST_INVALID_VALUE = 5,
    ST_ARCH_MISMATCH = 6,
    ST_EXECUTION_FAILED = 8,
    ST_NOT_SUPPORTED = 9,
    ST_LICENSE_ERROR = 10,
};

typedef void *ptr_t; /* handles, descriptors, device and host pointers alike */

/* Enum values, unchanged from cuDNN v4 to 9 ([cudnn9]). */
enum { DATA_FLOAT = 0, DATA_DOUBLE = 1 };
enum { TENSOR_NCHW = 0 };
enum { NOT_PROPAGATE_NAN = 0 };
enum { FMA_MATH = 3, TENSOR_OP_MATH = 1, TENSOR_OP_MATH_ALLOW_CONVERSION = 2 };
enum { FWD_NO_WORKSPACE = 0, FWD_PREFER_FASTEST = 1, FWD_SPECIFY_WORKSPACE_LIMIT = 2 };
/* Mocha asserts the algorithm it gets is IMPLICIT_GEMM (0) .. FFT (4). */
enum { MOCHA_FWD_ALGO_MAX = 4 };
enum { ACTIVATION_SIGMOID = 0, ACTIVATION_TANH = 2 };

/* cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t share this layout in cuDNN 7..9 ([h200]). */
typedef struct {
    int algo;
    int status;
    float time;
    size_t memory;
    int determinism;
    int mathType;
    int reserved[3];
} algo_perf_t;
#define PERF_CAP 16

/* The real cuDNN calls the layer uses: name, argument list. */
#define REAL_CALLS(X)                                                                                  \
    X(cudnnGetVersion, size_t, (void))                                                                 \
    X(cudnnCreate, int, (ptr_t *))                                                                     \
    X(cudnnDestroy, int, (ptr_t))                                                                      \
    X(cudnnSetStream, int, (ptr_t, ptr_t))                                                             \
    X(cudnnGetStream, int, (ptr_t, ptr_t *))                                                           \
    X(cudnnCreateTensorDescriptor, int, (ptr_t *))                                                     \
    X(cudnnSetTensor4dDescriptor, int, (ptr_t, int, int, int, int, int, int))                          \
    X(cudnnSetTensor4dDescriptorEx, int, (ptr_t, int, int, int, int, int, int, int, int, int))         \
    X(cudnnGetTensor4dDescriptor, int, (ptr_t, int *, int *, int *, int *, int *, int *, int *, int *, \
                                        int *))                                                        \
    X(cudnnDestroyTensorDescriptor, int, (ptr_t))                                                      \
    X(cudnnTransformTensor, int, (ptr_t, const void *, ptr_t, ptr_t, const void *, ptr_t, ptr_t))      \
    X(cudnnAddTensor, int, (ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t))                          \
    X(cudnnSetTensor, int, (ptr_t, ptr_t, ptr_t, ptr_t))                                               \
    X(cudnnCreateFilterDescriptor, int, (ptr_t *))                                                     \
    X(cudnnSetFilter4dDescriptor, int, (ptr_t, int, int, int, int, int, int))                          \
    X(cudnnGetFilter4dDescriptor, int, (ptr_t, int *, int *, int *, int *, int *, int *))              \
    X(cudnnDestroyFilterDescriptor, int, (ptr_t))                                                      \
    X(cudnnCreateConvolutionDescriptor, int, (ptr_t *))                                                \
    X(cudnnSetConvolution2dDescriptor, int, (ptr_t, int, int, int, int, int, int, int, int))           \
    X(cudnnGetConvolution2dDescriptor, int, (ptr_t, int *, int *, int *, int *, int *, int *, int *,   \
                                             int *))                                                   \
    X(cudnnSetConvolutionMathType, int, (ptr_t, int))                                                  \
    X(cudnnGetConvolutionMathType, int, (ptr_t, int *))                                                \
    X(cudnnDestroyConvolutionDescriptor, int, (ptr_t))                                                 \
    X(cudnnGetConvolutionForwardAlgorithm_v7, int, (ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, int, int *,     \
                                                    algo_perf_t *))                                    \
    X(cudnnGetConvolutionForwardWorkspaceSize, int, (ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, int, size_t *)) \
    X(cudnnConvolutionForward, int, (ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, int, ptr_t,      \
                                     size_t, ptr_t, ptr_t, ptr_t))                                     \
    X(cudnnConvolutionBackwardBias, int, (ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t))            \
    X(cudnnGetConvolutionBackwardFilterAlgorithm_v7, int, (ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, int,     \
                                                           int *, algo_perf_t *))                      \
    X(cudnnGetConvolutionBackwardFilterWorkspaceSize, int, (ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, int,    \
                                                            size_t *))                                 \
    X(cudnnConvolutionBackwardFilter, int, (ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, int,      \
                                            ptr_t, size_t, ptr_t, ptr_t, ptr_t))                       \
    X(cudnnGetConvolutionBackwardDataAlgorithm_v7, int, (ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, int,       \
                                                         int *, algo_perf_t *))                        \
    X(cudnnGetConvolutionBackwardDataWorkspaceSize, int, (ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, int,      \
                                                          size_t *))                                   \
    X(cudnnConvolutionBackwardData, int, (ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, int, ptr_t, \
                                          size_t, ptr_t, ptr_t, ptr_t))                                \
    X(cudnnSoftmaxForward, int, (ptr_t, int, int, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t))           \
    X(cudnnSoftmaxBackward, int, (ptr_t, int, int, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t,    \
                                  ptr_t))                                                              \
    X(cudnnCreatePoolingDescriptor, int, (ptr_t *))                                                    \
    X(cudnnSetPooling2dDescriptor, int, (ptr_t, int, int, int, int, int, int, int, int))               \
    X(cudnnDestroyPoolingDescriptor, int, (ptr_t))                                                     \
    X(cudnnPoolingForward, int, (ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t))              \
    X(cudnnPoolingBackward, int, (ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t,       \
                                  ptr_t, ptr_t, ptr_t))                                                \
    X(cudnnCreateActivationDescriptor, int, (ptr_t *))                                                 \
    X(cudnnSetActivationDescriptor, int, (ptr_t, int, int, double))                                    \
    X(cudnnDestroyActivationDescriptor, int, (ptr_t))                                                  \
    X(cudnnActivationForward, int, (ptr_t, ptr_t, const void *, ptr_t, ptr_t, const void *, ptr_t,     \
                                    ptr_t))                                                            \
    X(cudnnActivationBackward, int, (ptr_t, ptr_t, const void *, ptr_t, ptr_t, ptr_t, ptr_t, ptr_t,    \
                                     ptr_t, const void *, ptr_t, ptr_t))

#define DECLARE(name, ret, args) ret(*name) args;
static struct {
    REAL_CALLS(DECLARE)
} real;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static status_t init_status = ST_NOT_INITIALIZED;
static int real_major;
static size_t real_version;
/* The real cuDNN's file, as the probe reports it. dlinfo(RTLD_DI_ORIGIN) copies the folder with no
 * size given: dlinfo(3) says the buffer must hold PATH_MAX bytes, so both buffers are that size. */
static char real_path[PATH_MAX];
static char real_origin[PATH_MAX];

/* Mocha stops on any status but success, so one line at the first call says why. */
static void init(void) {
    const char *override = getenv("MOCHA_CUDNN_COMPAT_LIBCUDNN");
    const char *names[3] = {override, "libcudnn.so.9", "libcudnn.so.8"};
    void *lib = NULL;
    const char *name = NULL;
    for (int i = 0; i < 3 && lib == NULL; i++) {
        if (names[i] == NULL || names[i][0] == '\0')
            continue;
        name = names[i];
        lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    }
    if (lib == NULL) {
        fprintf(stderr,
                "mocha cudnn_compat (Mocha's cuDNN v%d calls): no cuDNN to forward to: dlopen failed for %s%s"
                "libcudnn.so.9 and libcudnn.so.8; install cuDNN 9 or 8 or set MOCHA_CUDNN_COMPAT_LIBCUDNN\n",
                MOCHA_CUDNN_GEN, override && *override ? override : "", override && *override ? ", " : "");
        return;
    }
#define RESOLVE(sym, ret, args)                                                                        \
    {                                                                                                  \
        void *p = dlsym(lib, #sym);                                                                    \
        if (p == NULL) {                                                                               \
            fprintf(stderr, "mocha cudnn_compat: %s lacks %s; it needs cuDNN 9 or 8\n", name, #sym);   \
            return;                                                                                    \
        }                                                                                              \
        memcpy(&real.sym, &p, sizeof p);                                                               \
    }
    REAL_CALLS(RESOLVE)
    real_version = real.cudnnGetVersion();
    /* cuDNN 9 encodes major*10000 + minor*100 + patch; 8 encoded major*1000 + minor*100 + patch. */
    real_major = (int)(real_version >= 90000 ? real_version / 10000 : real_version / 1000);
    if (real_major != 8 && real_major != 9) {
        fprintf(stderr, "mocha cudnn_compat: %s is cuDNN %zu; the layer forwards to cuDNN 9 or 8 only\n", name,
                real_version);
        return;
    }
    if (dlinfo(lib, RTLD_DI_ORIGIN, real_origin) != 0)
        real_origin[0] = '\0';
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    int len = snprintf(real_path, sizeof real_path, "%s%s%s", real_origin, real_origin[0] ? "/" : "", base);
    if (len < 0 || (size_t)len >= sizeof real_path) {
        /* A cut path would name another file; refuse rather than report it. */
        fprintf(stderr, "mocha cudnn_compat: the path of %s in %.64s... is longer than PATH_MAX (%d bytes)\n", base,
                real_origin, PATH_MAX);
        real_path[0] = '\0';
        return;
    }
    init_status = ST_SUCCESS;
}

static status_t ready(void) {
    pthread_once(&once, init);
    return init_status;
}

/* Today's status codes, told in the old ones Mocha's error table knows. */
static status_t old_status(int s) {
    if (s == 0)
        return ST_SUCCESS;
    if (real_major == 8) {
        if (s <= ST_LICENSE_ERROR)
            return s;
        return s == 11 ? ST_NOT_SUPPORTED : ST_INTERNAL_ERROR; /* 11: runtime prerequisite missing */
    }
    if (s == 1005)
        return ST_LICENSE_ERROR;
    if (s == 2001)
        return ST_INVALID_VALUE;
    if (s == 3007)
        return ST_ARCH_MISMATCH;
    if (s == 4003 || s == 4004)
        return ST_ALLOC_FAILED;
    switch (s / 1000) {
    case 1:
        return ST_NOT_INITIALIZED;
    case 2:
        return ST_BAD_PARAM;
    case 3:
        return ST_NOT_SUPPORTED;
    case 5:
        return ST_EXECUTION_FAILED;
    default:
        return ST_INTERNAL_ERROR;
    }
}

#define READY()                                                                                        \
    do {                                                                                               \
        status_t ready_status = ready();                                                               \
        if (ready_status != ST_SUCCESS)                                                                \
            return ready_status;                                                                       \
    } while (0)
#define FORWARD(call) return old_status(real.call)
#define CHECK(call)                                                                                    \
    do {                                                                                               \
        int check_status = real.call;                                                                  \
        if (check_status != 0)                                                                         \
            return old_status(check_status);                                                           \
    } while (0)

static int tensor_type(ptr_t desc, int *type) {
    int n, c, h, w, ns, cs, hs, ws;
    return real.cudnnGetTensor4dDescriptor(desc, type, &n, &c, &h, &w, &ns, &cs, &hs, &ws);
}

/* cuDNN 6+ keeps a compute type in the convolution descriptor; v4/v5 computed in the data's own
 * type. Mocha sets the descriptor before it names the tensors, so the type is fixed per call. */
static int align_compute_type(ptr_t conv, ptr_t tensor) {
    int type, pad_h, pad_w, u, v, dil_h, dil_w, mode, compute;
    int s = tensor_type(tensor, &type);
    if (s != 0)
        return s;
    int wanted = type == DATA_DOUBLE ? DATA_DOUBLE : DATA_FLOAT;
    s = real.cudnnGetConvolution2dDescriptor(conv, &pad_h, &pad_w, &u, &v, &dil_h, &dil_w, &mode, &compute);
    if (s != 0 || compute == wanted)
        return s;
    s = real.cudnnSetConvolution2dDescriptor(conv, pad_h, pad_w, u, v, dil_h, dil_w, mode, wanted);
    return s != 0 ? s : real.cudnnSetConvolutionMathType(conv, FMA_MATH);
}

/* Scaling factors are double for double tensors and float otherwise (cuDNN's rule). */
typedef union {
    float f;
    double d;
} scale_t;
static int scales(ptr_t tensor, scale_t *one, scale_t *zero) {
    int type = DATA_FLOAT;
    int s = tensor_type(tensor, &type);
    if (type == DATA_DOUBLE) {
        one->d = 1.0;
        zero->d = 0.0;
    } else {
        one->f = 1.0f;
        zero->f = 0.0f;
    }
    return s;
}

/* An algorithm whose kernels are plain FP32/FP64 FMA, as the old calls computed (no TF32). */
static int fma_only(const algo_perf_t *p) {
    return p->mathType != TENSOR_OP_MATH && p->mathType != TENSOR_OP_MATH_ALLOW_CONVERSION;
}

/* ---- workspace for the translated _v2 backward calls: one device buffer per handle ---- */
typedef struct {
    ptr_t handle;
    unsigned long long dptr;
    size_t size;
} workspace_t;
static workspace_t workspaces[32];
static pthread_mutex_t workspaces_lock = PTHREAD_MUTEX_INITIALIZER;
static int (*cu_mem_free)(unsigned long long);

#if MOCHA_CUDNN_GEN == 4 /* only the translated _v2 calls need a workspace */
static int (*cu_mem_alloc)(unsigned long long *, size_t);
static int (*cu_ctx_synchronize)(void);

static void load_driver(void) {
    void *cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (cuda == NULL)
        return;
    void *a = dlsym(cuda, "cuMemAlloc_v2"), *f = dlsym(cuda, "cuMemFree_v2"), *y = dlsym(cuda, "cuCtxSynchronize");
    if (a && f && y) {
        memcpy(&cu_mem_alloc, &a, sizeof a);
        memcpy(&cu_mem_free, &f, sizeof f);
        memcpy(&cu_ctx_synchronize, &y, sizeof y);
    }
}

static status_t workspace(ptr_t handle, size_t size, ptr_t *out) {
    static pthread_once_t driver_once = PTHREAD_ONCE_INIT;
    *out = NULL;
    if (size == 0)
        return ST_SUCCESS;
    pthread_once(&driver_once, load_driver);
    if (cu_mem_alloc == NULL)
        return ST_ALLOC_FAILED;
    status_t result = ST_ALLOC_FAILED;
    pthread_mutex_lock(&workspaces_lock);
    workspace_t *slot = NULL;
    for (size_t i = 0; i < sizeof workspaces / sizeof workspaces[0] && slot == NULL; i++)
        if (workspaces[i].handle == handle)
            slot = &workspaces[i];
    for (size_t i = 0; i < sizeof workspaces / sizeof workspaces[0] && slot == NULL; i++)
        if (workspaces[i].handle == NULL)
            slot = &workspaces[i];
    if (slot != NULL) {
        if (slot->size < size) {
            /* The old buffer may still be in use by queued kernels. */
            if (slot->dptr != 0 && (cu_ctx_synchronize() != 0 || cu_mem_free(slot->dptr) != 0))
                goto done;
            slot->dptr = 0;
            slot->size = 0;
            if (cu_mem_alloc(&slot->dptr, size) != 0) {
                slot->dptr = 0;
                goto done;
            }
            slot->size = size;
        }
        slot->handle = handle;
        *out = (ptr_t)(uintptr_t)slot->dptr;
        result = ST_SUCCESS;
    }
done:
    pthread_mutex_unlock(&workspaces_lock);
    return result;
}

/* ---- the algorithm each _v2 call runs, kept per handle and descriptor contents ----
 * The _v7 ranking cost about 0.65 ms of host time per call on cuDNN 9.19 (H200,
 * bench/cudnn_compat_bench.py), four times the convolution's own launch, and Mocha makes two such
 * calls per layer per iteration. The ranking is a heuristic, fixed for fixed inputs, so the choice
 * is kept under what the query reads: the handle and the descriptors' contents, not their
 * addresses, since Mocha may set a descriptor again. */
enum { BACKWARD_FILTER = 0, BACKWARD_DATA = 1 };
typedef struct {
    ptr_t handle;
    int direction;
    int tensors[2][9]; /* type n c h w and the four strides */
    int filter[6];     /* type format k c h w */
    int conv[9];       /* pads, strides, dilations, mode, compute type, math type */
} choice_key_t;
/* Keys are compared with memcmp: no padding may hide between or after the fields. */
_Static_assert(sizeof(choice_key_t) == sizeof(ptr_t) + 34 * sizeof(int), "choice_key_t has padding");
typedef struct {
    choice_key_t key;
    int algo;
    size_t need;
} choice_t;
static choice_t choices[64];
static size_t choices_used, choices_next;
static pthread_mutex_t choices_lock = PTHREAD_MUTEX_INITIALIZER;

static int choice_key(choice_key_t *key, ptr_t handle, int direction, ptr_t tensor_a, ptr_t tensor_b, ptr_t filter,
                      ptr_t conv) {
    memset(key, 0, sizeof *key); /* padding too: keys are compared with memcmp */
    key->handle = handle;
    key->direction = direction;
    ptr_t tensors[2] = {tensor_a, tensor_b};
    for (int i = 0; i < 2; i++) {
        int *t = key->tensors[i];
        int s = real.cudnnGetTensor4dDescriptor(tensors[i], &t[0], &t[1], &t[2], &t[3], &t[4], &t[5], &t[6], &t[7],
                                                &t[8]);
        if (s != 0)
            return s;
    }
    int *f = key->filter, *c = key->conv;
    int s = real.cudnnGetFilter4dDescriptor(filter, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5]);
    if (s == 0)
        s = real.cudnnGetConvolution2dDescriptor(conv, &c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6], &c[7]);
    return s != 0 ? s : real.cudnnGetConvolutionMathType(conv, &c[8]);
}

static int kept_choice(const choice_key_t *key, int *algo, size_t *need) {
    int found = 0;
    pthread_mutex_lock(&choices_lock);
    for (size_t i = 0; i < choices_used && !found; i++)
        if (memcmp(&choices[i].key, key, sizeof *key) == 0) {
            *algo = choices[i].algo;
            *need = choices[i].need;
            found = 1;
        }
    pthread_mutex_unlock(&choices_lock);
    return found;
}

/* Round-robin eviction: a net with more than 64 distinct convolutions per handle and direction
 * (Mocha's example has 3) only asks the ranking more often. */
static void keep_choice(const choice_key_t *key, int algo, size_t need) {
    pthread_mutex_lock(&choices_lock);
    choice_t *slot = &choices[choices_next];
    choices_next = (choices_next + 1) % (sizeof choices / sizeof choices[0]);
    if (choices_used < sizeof choices / sizeof choices[0])
        choices_used++;
    memcpy(&slot->key, key, sizeof *key);
    slot->algo = algo;
    slot->need = need;
    pthread_mutex_unlock(&choices_lock);
}

/* A handle's address may be reused after cudnnDestroy, for another device. */
static void forget_choices(ptr_t handle) {
    pthread_mutex_lock(&choices_lock);
    size_t kept = 0;
    for (size_t i = 0; i < choices_used; i++)
        if (choices[i].key.handle != handle)
            choices[kept++] = choices[i];
    choices_used = kept;
    choices_next = kept % (sizeof choices / sizeof choices[0]);
    pthread_mutex_unlock(&choices_lock);
}

/* What a _v2 backward call needs before it forwards: the compute type aligned with the data's
 * (from x for the filter, dy for the data), the first FMA algorithm of the heuristics' ranking
 * whose workspace size can be had, and that workspace. Both directions take (first, dy, conv,
 * last): (x, dy, conv, dw) for the filter, (w, dy, conv, dx) for the data. */
static status_t backward_plan(int direction, ptr_t handle, ptr_t first, ptr_t dy, ptr_t conv, ptr_t last, int *algo,
                              size_t *need, ptr_t *work) {
    int filter_dir = direction == BACKWARD_FILTER;
    ptr_t data = filter_dir ? first : dy;
    int aligned = align_compute_type(conv, data);
    if (aligned != 0)
        return old_status(aligned);
    choice_key_t key;
    int keyed = choice_key(&key, handle, direction, data, filter_dir ? dy : last, filter_dir ? last : first, conv) == 0;
    if (keyed && kept_choice(&key, algo, need))
        return workspace(handle, *need, work);
    algo_perf_t perf[PERF_CAP];
    int count = 0;
    if (filter_dir)
        CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, first, dy, conv, last, PERF_CAP, &count, perf));
    else
        CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, first, dy, conv, last, PERF_CAP, &count, perf));
    for (int i = 0; i < count; i++) {
        if (perf[i].status != 0 || !fma_only(&perf[i]))
            continue;
        int s = filter_dir ? real.cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, first, dy, conv, last,
                                                                                 perf[i].algo, need)
                           : real.cudnnGetConvolutionBackwardDataWorkspaceSize(handle, first, dy, conv, last,
                                                                               perf[i].algo, need);
        if (s != 0)
            continue;
        *algo = perf[i].algo;
        if (keyed)
            keep_choice(&key, *algo, *need);
        return workspace(handle, *need, work);
    }
    return ST_NOT_SUPPORTED;
}

#endif

static void release_workspace(ptr_t handle) {
    pthread_mutex_lock(&workspaces_lock);
    for (size_t i = 0; i < sizeof workspaces / sizeof workspaces[0]; i++)
        if (workspaces[i].handle == handle) {
            if (workspaces[i].dptr != 0 && cu_mem_free != NULL)
                cu_mem_free(workspaces[i].dptr);
            memset(&workspaces[i], 0, sizeof workspaces[i]);
        }
    pthread_mutex_unlock(&workspaces_lock);
}

/* ======================= entry points (both generations) ======================= */

API int mochaCudnnCompatInfo(int *generation, size_t *version, char *path, size_t path_len) {
    if (generation != NULL)
        *generation = MOCHA_CUDNN_GEN;
    READY();
    if (version != NULL)
        *version = real_version;
    if (path != NULL && path_len > 0) {
        size_t need = strlen(real_path) + 1;
        if (need > path_len) { /* never a cut path: say how much room it needs */
            path[0] = '\0';
            return ST_BAD_PARAM;
        }
        memcpy(path, real_path, need);
    }
    return ST_SUCCESS;
}

API status_t cudnnCreate(ptr_t *handle) {
    READY();
    FORWARD(cudnnCreate(handle));
}

API status_t cudnnDestroy(ptr_t handle) {
    READY();
#if MOCHA_CUDNN_GEN == 4
    forget_choices(handle); /* before the address can be handed out again */
#endif
    int s = real.cudnnDestroy(handle); /* synchronises the device, so the workspace is idle */
    release_workspace(handle);
    return old_status(s);
}

API status_t cudnnSetStream(ptr_t handle, ptr_t stream) {
    READY();
    FORWARD(cudnnSetStream(handle, stream));
}

API status_t cudnnGetStream(ptr_t handle, ptr_t *stream) {
    READY();
    FORWARD(cudnnGetStream(handle, stream));
}

API status_t cudnnCreateTensorDescriptor(ptr_t *desc) {
    READY();
    FORWARD(cudnnCreateTensorDescriptor(desc));
}

API status_t cudnnSetTensor4dDescriptor(ptr_t desc, int format, int type, int n, int c, int h, int w) {
    READY();
    FORWARD(cudnnSetTensor4dDescriptor(desc, format, type, n, c, h, w));
}

API status_t cudnnSetTensor4dDescriptorEx(ptr_t desc, int type, int n, int c, int h, int w, int ns, int cs, int hs,
                                          int ws) {
    READY();
    FORWARD(cudnnSetTensor4dDescriptorEx(desc, type, n, c, h, w, ns, cs, hs, ws));
}

API status_t cudnnGetTensor4dDescriptor(ptr_t desc, int *type, int *n, int *c, int *h, int *w, int *ns, int *cs,
                                        int *hs, int *ws) {
    READY();
    FORWARD(cudnnGetTensor4dDescriptor(desc, type, n, c, h, w, ns, cs, hs, ws));
}

API status_t cudnnDestroyTensorDescriptor(ptr_t desc) {
    READY();
    FORWARD(cudnnDestroyTensorDescriptor(desc));
}

/* R1 form: dest = src in dest's layout, which is today's call with alpha 1 and beta 0. */
API status_t cudnnTransformTensor4d(ptr_t handle, ptr_t src_desc, ptr_t src, ptr_t dest_desc, ptr_t dest) {
    READY();
    scale_t one, zero;
    int s = scales(src_desc, &one, &zero);
    if (s != 0)
        return old_status(s);
    FORWARD(cudnnTransformTensor(handle, &one, src_desc, src, &zero, dest_desc, dest));
}

API status_t cudnnAddTensor(ptr_t handle, ptr_t alpha, ptr_t bias_desc, ptr_t bias, ptr_t beta, ptr_t dest_desc,
                            ptr_t dest) {
    READY();
    FORWARD(cudnnAddTensor(handle, alpha, bias_desc, bias, beta, dest_desc, dest));
}

/* R1 name of cudnnSetTensor, same arguments. */
API status_t cudnnSetTensor4d(ptr_t handle, ptr_t desc, ptr_t data, ptr_t value) {
    READY();
    FORWARD(cudnnSetTensor(handle, desc, data, value));
}

API status_t cudnnCreateFilterDescriptor(ptr_t *desc) {
    READY();
    FORWARD(cudnnCreateFilterDescriptor(desc));
}

API status_t cudnnDestroyFilterDescriptor(ptr_t desc) {
    READY();
    FORWARD(cudnnDestroyFilterDescriptor(desc));
}

API status_t cudnnCreateConvolutionDescriptor(ptr_t *desc) {
    READY();
    FORWARD(cudnnCreateConvolutionDescriptor(desc));
}

/* v4/v5: (pad, stride, upscale, mode). Upscale had to be 1 then; today's 6th and 7th arguments mean
 * dilation, so anything else would compute something different. */
API status_t cudnnSetConvolution2dDescriptor(ptr_t desc, int pad_h, int pad_w, int u, int v, int upscale_x,
                                             int upscale_y, int mode) {
    READY();
    if (upscale_x != 1 || upscale_y != 1)
        return ST_NOT_SUPPORTED;
    CHECK(cudnnSetConvolution2dDescriptor(desc, pad_h, pad_w, u, v, 1, 1, mode, DATA_FLOAT));
    FORWARD(cudnnSetConvolutionMathType(desc, FMA_MATH));
}

/* R1 descriptor carrying tensor and filter sizes: nothing today holds them. */
API status_t cudnnSetConvolutionDescriptorEx(ptr_t desc, int n, int c, int h, int w, int k, int r, int s, int pad_h,
                                             int pad_w, int u, int v, int upscale_x, int upscale_y, int mode) {
    (void)desc, (void)n, (void)c, (void)h, (void)w, (void)k, (void)r, (void)s, (void)pad_h, (void)pad_w, (void)u,
        (void)v, (void)upscale_x, (void)upscale_y, (void)mode;
    READY();
    return ST_NOT_SUPPORTED;
}

API status_t cudnnDestroyConvolutionDescriptor(ptr_t desc) {
    READY();
    FORWARD(cudnnDestroyConvolutionDescriptor(desc));
}

/* Removed in cuDNN 8: read the heuristics' ranked list and keep the old preference. Mocha's ccall
 * passes the preference as Int and reads the algorithm through Ptr{Int} (64-bit). */
API status_t cudnnGetConvolutionForwardAlgorithm(ptr_t handle, ptr_t x_desc, ptr_t w_desc, ptr_t conv, ptr_t y_desc,
                                                 int64_t preference, size_t memory_limit, int64_t *algo) {
    READY();
    if (preference < FWD_NO_WORKSPACE || preference > FWD_SPECIFY_WORKSPACE_LIMIT || algo == NULL)
        return ST_BAD_PARAM;
    int s = align_compute_type(conv, x_desc);
    if (s != 0)
        return old_status(s);
    algo_perf_t perf[PERF_CAP];
    int count = 0;
    CHECK(cudnnGetConvolutionForwardAlgorithm_v7(handle, x_desc, w_desc, conv, y_desc, PERF_CAP, &count, perf));
    for (int i = 0; i < count; i++) {
        if (perf[i].status != 0 || perf[i].algo < 0 || perf[i].algo > MOCHA_FWD_ALGO_MAX || !fma_only(&perf[i]))
            continue;
        size_t need = 0;
        if (real.cudnnGetConvolutionForwardWorkspaceSize(handle, x_desc, w_desc, conv, y_desc, perf[i].algo, &need))
            continue;
        if ((preference == FWD_NO_WORKSPACE && need != 0) ||
            (preference == FWD_SPECIFY_WORKSPACE_LIMIT && need > memory_limit))
            continue;
        *algo = perf[i].algo;
        return ST_SUCCESS;
    }
    return ST_NOT_SUPPORTED;
}

API status_t cudnnGetConvolutionForwardWorkspaceSize(ptr_t handle, ptr_t x_desc, ptr_t w_desc, ptr_t conv,
                                                     ptr_t y_desc, int64_t algo, size_t *size) {
    READY();
    int s = align_compute_type(conv, x_desc);
    if (s != 0)
        return old_status(s);
    FORWARD(cudnnGetConvolutionForwardWorkspaceSize(handle, x_desc, w_desc, conv, y_desc, (int)algo, size));
}

API status_t cudnnConvolutionForward(ptr_t handle, ptr_t alpha, ptr_t x_desc, ptr_t x, ptr_t w_desc, ptr_t w,
                                     ptr_t conv, int algo, ptr_t work, size_t work_size, ptr_t beta, ptr_t y_desc,
                                     ptr_t y) {
    READY();
    int s = align_compute_type(conv, x_desc);
    if (s != 0)
        return old_status(s);
    FORWARD(cudnnConvolutionForward(handle, alpha, x_desc, x, w_desc, w, conv, algo, work, work_size, beta, y_desc,
                                    y));
}

API status_t cudnnConvolutionBackwardBias(ptr_t handle, ptr_t alpha, ptr_t dy_desc, ptr_t dy, ptr_t beta,
                                          ptr_t db_desc, ptr_t db) {
    READY();
    FORWARD(cudnnConvolutionBackwardBias(handle, alpha, dy_desc, dy, beta, db_desc, db));
}

API status_t cudnnSoftmaxForward(ptr_t handle, int algorithm, int mode, ptr_t alpha, ptr_t x_desc, ptr_t x,
                                 ptr_t beta, ptr_t y_desc, ptr_t y) {
    READY();
    FORWARD(cudnnSoftmaxForward(handle, algorithm, mode, alpha, x_desc, x, beta, y_desc, y));
}

API status_t cudnnSoftmaxBackward(ptr_t handle, int algorithm, int mode, ptr_t alpha, ptr_t y_desc, ptr_t y,
                                  ptr_t dy_desc, ptr_t dy, ptr_t beta, ptr_t dx_desc, ptr_t dx) {
    READY();
    FORWARD(cudnnSoftmaxBackward(handle, algorithm, mode, alpha, y_desc, y, dy_desc, dy, beta, dx_desc, dx));
}

API status_t cudnnCreatePoolingDescriptor(ptr_t *desc) {
    READY();
    FORWARD(cudnnCreatePoolingDescriptor(desc));
}

API status_t cudnnDestroyPoolingDescriptor(ptr_t desc) {
    READY();
    FORWARD(cudnnDestroyPoolingDescriptor(desc));
}

API status_t cudnnPoolingForward(ptr_t handle, ptr_t pooling, ptr_t alpha, ptr_t x_desc, ptr_t x, ptr_t beta,
                                 ptr_t y_desc, ptr_t y) {
    READY();
    FORWARD(cudnnPoolingForward(handle, pooling, alpha, x_desc, x, beta, y_desc, y));
}

API status_t cudnnPoolingBackward(ptr_t handle, ptr_t pooling, ptr_t alpha, ptr_t y_desc, ptr_t y, ptr_t dy_desc,
                                  ptr_t dy, ptr_t x_desc, ptr_t x, ptr_t beta, ptr_t dx_desc, ptr_t dx) {
    READY();
    FORWARD(cudnnPoolingBackward(handle, pooling, alpha, y_desc, y, dy_desc, dy, x_desc, x, beta, dx_desc, dx));
}

/* R1 activations (mode, no scaling): an activation descriptor, alpha 1, beta 0. */
static status_t activation_desc(int mode, ptr_t *desc) {
    if (mode < ACTIVATION_SIGMOID || mode > ACTIVATION_TANH)
        return ST_BAD_PARAM;
    CHECK(cudnnCreateActivationDescriptor(desc));
    int s = real.cudnnSetActivationDescriptor(*desc, mode, NOT_PROPAGATE_NAN, 0.0);
    if (s != 0)
        real.cudnnDestroyActivationDescriptor(*desc);
    return old_status(s);
}

API status_t cudnnActivationForward(ptr_t handle, int mode, ptr_t x_desc, ptr_t x, ptr_t y_desc, ptr_t y) {
    READY();
    ptr_t act;
    scale_t one, zero;
    status_t s = activation_desc(mode, &act);
    if (s != ST_SUCCESS)
        return s;
    int r = scales(x_desc, &one, &zero);
    if (r == 0)
        r = real.cudnnActivationForward(handle, act, &one, x_desc, x, &zero, y_desc, y);
    real.cudnnDestroyActivationDescriptor(act);
    return old_status(r);
}

/* Mocha's names: src = y (the forward output), srcdiff = dy, dest = x, destdiff = dx. */
API status_t cudnnActivationBackward(ptr_t handle, int mode, ptr_t y_desc, ptr_t y, ptr_t dy_desc, ptr_t dy,
                                     ptr_t x_desc, ptr_t x, ptr_t dx_desc, ptr_t dx) {
    READY();
    ptr_t act;
    scale_t one, zero;
    status_t s = activation_desc(mode, &act);
    if (s != ST_SUCCESS)
        return s;
    int r = scales(x_desc, &one, &zero);
    if (r == 0)
        r = real.cudnnActivationBackward(handle, act, &one, y_desc, y, dy_desc, dy, x_desc, x, &zero, dx_desc, dx);
    real.cudnnDestroyActivationDescriptor(act);
    return old_status(r);
}

#if MOCHA_CUDNN_GEN == 4
/* ======================= cuDNN v4-era only (Mocha v0.1.2, v0.2.0) ======================= */

/* v4 filters had no format argument: they were NCHW. */
API status_t cudnnSetFilter4dDescriptor(ptr_t desc, int type, int k, int c, int h, int w) {
    READY();
    FORWARD(cudnnSetFilter4dDescriptor(desc, type, TENSOR_NCHW, k, c, h, w));
}

API status_t cudnnGetFilterDescriptor(ptr_t desc, int *type, int *k, int *c, int *h, int *w) {
    READY();
    int format;
    CHECK(cudnnGetFilter4dDescriptor(desc, type, &format, k, c, h, w));
    return format == TENSOR_NCHW ? ST_SUCCESS : ST_NOT_SUPPORTED;
}

/* R1 query of an Ex descriptor's sizes; its successor needs tensor and filter descriptors that
 * Mocha's 8-argument descriptor never received. */
API status_t cudnnGetOutputTensor4dDim(ptr_t desc, int path, ptr_t n, ptr_t c, ptr_t h, ptr_t w) {
    (void)desc, (void)path, (void)n, (void)c, (void)h, (void)w;
    READY();
    return ST_NOT_SUPPORTED;
}

/* v4 had no NaN option; NOT_PROPAGATE is what Mocha v0.3.x passes itself. */
API status_t cudnnSetPooling2dDescriptor(ptr_t desc, int mode, int h, int w, int v_pad, int h_pad, int v_stride,
                                         int h_stride) {
    READY();
    FORWARD(cudnnSetPooling2dDescriptor(desc, mode, NOT_PROPAGATE_NAN, h, w, v_pad, h_pad, v_stride, h_stride));
}

API status_t cudnnConvolutionBackwardFilter_v2(ptr_t handle, ptr_t alpha, ptr_t x_desc, ptr_t x, ptr_t dy_desc,
                                               ptr_t dy, ptr_t conv, ptr_t beta, ptr_t dw_desc, ptr_t dw) {
    READY();
    int algo;
    size_t need;
    ptr_t work;
    status_t planned = backward_plan(BACKWARD_FILTER, handle, x_desc, dy_desc, conv, dw_desc, &algo, &need, &work);
    if (planned != ST_SUCCESS)
        return planned;
    FORWARD(cudnnConvolutionBackwardFilter(handle, alpha, x_desc, x, dy_desc, dy, conv, algo, work, need, beta, dw_desc,
                                           dw));
}

API status_t cudnnConvolutionBackwardData_v2(ptr_t handle, ptr_t alpha, ptr_t w_desc, ptr_t w, ptr_t dy_desc,
                                             ptr_t dy, ptr_t conv, ptr_t beta, ptr_t dx_desc, ptr_t dx) {
    READY();
    int algo;
    size_t need;
    ptr_t work;
    status_t planned = backward_plan(BACKWARD_DATA, handle, w_desc, dy_desc, conv, dx_desc, &algo, &need, &work);
    if (planned != ST_SUCCESS)
        return planned;
    FORWARD(cudnnConvolutionBackwardData(handle, alpha, w_desc, w, dy_desc, dy, conv, algo, work, need, beta, dx_desc,
                                         dx));
}

#else
/* ======================= cuDNN v5-era only (Mocha v0.3.x) ======================= */

API status_t cudnnSetFilter4dDescriptor(ptr_t desc, int type, int format, int k, int c, int h, int w) {
    READY();
    FORWARD(cudnnSetFilter4dDescriptor(desc, type, format, k, c, h, w));
}

/* Mocha binds cudnnGetFilterDescriptor; cuDNN names it cudnnGetFilter4dDescriptor. */
API status_t cudnnGetFilterDescriptor(ptr_t desc, int *type, int *format, int *k, int *c, int *h, int *w) {
    READY();
    FORWARD(cudnnGetFilter4dDescriptor(desc, type, format, k, c, h, w));
}

API status_t cudnnSetPooling2dDescriptor(ptr_t desc, int mode, int nan, int h, int w, int v_pad, int h_pad,
                                         int v_stride, int h_stride) {
    READY();
    FORWARD(cudnnSetPooling2dDescriptor(desc, mode, nan, h, w, v_pad, h_pad, v_stride, h_stride));
}

API status_t cudnnConvolutionBackwardFilter(ptr_t handle, ptr_t alpha, ptr_t x_desc, ptr_t x, ptr_t dy_desc, ptr_t dy,
                                            ptr_t conv, int algo, ptr_t work, size_t work_size, ptr_t beta,
                                            ptr_t dw_desc, ptr_t dw) {
    READY();
    int s = align_compute_type(conv, x_desc);
    if (s != 0)
        return old_status(s);
    FORWARD(cudnnConvolutionBackwardFilter(handle, alpha, x_desc, x, dy_desc, dy, conv, algo, work, work_size, beta,
                                           dw_desc, dw));
}

API status_t cudnnConvolutionBackwardData(ptr_t handle, ptr_t alpha, ptr_t w_desc, ptr_t w, ptr_t dy_desc, ptr_t dy,
                                          ptr_t conv, int algo, ptr_t work, size_t work_size, ptr_t beta,
                                          ptr_t dx_desc, ptr_t dx) {
    READY();
    int s = align_compute_type(conv, dy_desc);
    if (s != 0)
        return old_status(s);
    FORWARD(cudnnConvolutionBackwardData(handle, alpha, w_desc, w, dy_desc, dy, conv, algo, work, work_size, beta,
                                         dx_desc, dx));
}
#endif
