// A read store kept in process memory (for in-memory journals and tests):
// read_store.hpp's contract on an in-memory SQLite database, so durable read
// models work there too. Nothing survives the last store of a factory.
#pragma once

#include <interlock/persistence/read_store.hpp>

namespace interlock {

/// A factory whose stores share one new, empty in-memory database.
read_store_factory memory_read_store_factory();

}  // namespace interlock
