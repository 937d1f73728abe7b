# TEST DOUBLE of Mocha's deps/build.jl: the stand-in julia's Pkg.build("Mocha") does what
# the real file does, with this tree's own stand-in sources: $CXX (default g++)
# -fPIC -Wall -O3 -shared -fopenmp -o libmochaext.so im2col.cpp pooling.cpp
