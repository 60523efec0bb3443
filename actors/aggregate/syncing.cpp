// Syncing: waits until the writer holds nothing more of this actor. A sync
// batch goes behind the batches in flight and comes back once they are all
// completed; the commands the writer hands back meanwhile (an append failed:
// every later batch of the chain ran on it) wait in `reruns`. Commands that
// come wait in line. Then a stale state is reloaded (recovering, the reruns
// first in line); otherwise running goes on, and an idempotent command's
// lookup sees everything this actor sent.
//
// No timeout, as for the appends: the writer completes every batch it takes,
// and one it drops (it had stopped) sends sync_lost_atom.
#include <interlock/actors/aggregate/aggregate_state.hpp>

namespace interlock::detail {

void start_syncing(aggregate_self self) {
  sync_then(self, "syncing", [=] { resume(self); });
}

}  // namespace interlock::detail
