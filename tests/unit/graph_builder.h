// Forwarding header for passes_test.cc and preactivation_test.cc, which still include the old path;
// delete it when they move to tests/unit/optimize/ and include tests/unit/support/graph_builder.h.
#pragma once

#include "tests/unit/support/graph_builder.h"
