#include "dropout.impl"
