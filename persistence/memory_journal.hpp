// A journal kept in process memory, for tests and samples that need no file.
//
// It keeps journal.hpp's contract and behaves like the SQLite journal
// (sqlite_journal.hpp): the same errc and messages for conflicts and invalid
// arguments, gapless 1-based versions and positions, one recorded_at per
// append batch. It never fails with errc::storage. Everything is lost when the
// last journal of a factory is destroyed.
#pragma once

#include <interlock/persistence/journal.hpp>

namespace interlock {

/// A factory whose journals all share one new, empty in-memory store (as
/// connections to one database would). The journals may be used from
/// different threads at once; the store is mutex-protected.
journal_factory memory_journal_factory();

}  // namespace interlock
