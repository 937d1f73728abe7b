# TEST DOUBLE of Mocha's examples/cifar10/convert.jl, written for this project (not Mocha's
# code). The stand-in julia does the conversion itself: it reads
# cifar-10-batches-bin/*.bin and writes stand-in train.hdf5 and test.hdf5. From this file
# it reads only the names each top-level expression uses, and it ends the script as real
# Julia would where its version lacks one.
#
# Where the route depends on it, this file has what the released convert.jl has on the
# same line (v0.1.2, v0.2.0, v0.3.0 and v0.3.1 share one convert.jl): line 25 calls
# readbytes, which Julia 0.6 no longer has. So mocha_cifar's fixes
# (roles/mocha_cifar/vars/example_patches.yml) apply to this file as to the real one, and
# tests/integration/test_cifar_example_fixes.py checks both.
using HDF5

const record_bytes = 3073   # a label byte, then 1024 red, 1024 green, 1024 blue bytes
const records      = 10000  # per batch file

splits = [("train", ["data_batch_$i.bin" for i in 1:5]), ("test", ["test_batch.bin"])]

for (split, files) in splits
  h5open("$split.hdf5", "w") do h5
    for (n, file) in enumerate(files)
      open("cifar-10-batches-bin/$file") do f
        # the stand-in reads the bytes itself; the call below is the one that matters
        println("stand-in: reading $file")
        bytes = readbytes(f, record_bytes * records)
        println("stand-in: $(length(bytes)) bytes")
      end
    end
  end
end
