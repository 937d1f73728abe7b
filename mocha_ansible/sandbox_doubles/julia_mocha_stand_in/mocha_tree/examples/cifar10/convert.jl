# TEST DOUBLE of examples/cifar10/convert.jl (the stand-in julia does the work)
