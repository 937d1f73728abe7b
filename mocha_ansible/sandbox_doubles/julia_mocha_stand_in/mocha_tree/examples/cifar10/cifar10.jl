# TEST DOUBLE of Mocha's examples/cifar10/cifar10.jl: the stand-in julia reads
# max_iter from here; the rest mirrors the real file's settings.
using Mocha
# batch 100, SGD, momentum 0.9, lr staged at 60000 and 65000
params = SolverParameters(max_iter=70000, regu_coef=0.004, mom_policy=MomPolicy.Fixed(0.9), load_from="snapshots")
