using Mocha
# TEST DOUBLE of Mocha's examples/cifar10/cifar10.jl (the note below lines 3 and 4).
training_data = HDF5DataLayer(source="data/train.txt", batch_size=100, shuffle=@windows ? false : true)
test_data = HDF5DataLayer(source="data/test.txt", batch_size=100)
# Written for this project, not Mocha's code. The stand-in julia reads max_iter from here,
# and the names each top-level expression uses; it ends the script as real Julia would
# where its version lacks one, and where Net(...) would open a data list (source=) or a
# file it names that is missing.
#
# Where the route depends on it, this file has what the released cifar10.jl has on the
# same line (v0.1.2 to v0.3.1 share one cifar10.jl): line 1 loads Mocha, line 3 builds the
# training data layer with @windows, which Julia 0.6 no longer has, and line 4 the test
# data layer. So mocha_cifar's fixes (roles/mocha_cifar/vars/example_patches.yml) apply to
# this file as to the real one; tests/integration/test_cifar_example_fixes.py checks both.
# The real file's settings: batch 100, SGD with momentum 0.9, the learning rate staged at
# 60000 and 65000, resuming from snapshots/; and its coffee breaks as the real lines 51, 54
# and 58 have them (a summary every 200 iterations, a snapshot every 5000, validation
# every 1000), which the stand-in julia runs as Mocha's solve does.
layers = [ConvolutionLayer(name="conv"), PoolingLayer(name="pool"), InnerProductLayer(name="ip")]
backend = DefaultBackend()
init(backend)
net = Net("stand-in-train", backend, [training_data, layers..., SoftmaxLossLayer(name="loss")])
params = SolverParameters(max_iter=70000, regu_coef=0.004, mom_policy=MomPolicy.Fixed(0.9), load_from="snapshots")
test_net = Net("stand-in-test", backend, [test_data, layers..., AccuracyLayer(name="accuracy")])
solver = Solver(SGD(), params)
add_coffee_break(solver, TrainingSummary(), every_n_iter=200)
add_coffee_break(solver, Snapshot("snapshots"), every_n_iter=5000)
add_coffee_break(solver, ValidationPerformance(test_net), every_n_iter=1000)
solve(solver, net)
