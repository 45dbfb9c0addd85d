package dev.checkprop.exec;

import java.util.ConcurrentModificationException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Confines an {@link Executor} to one thread at a time. Its buffers, live set and counters belong to
 * the call in progress; a second thread entering would corrupt them (a wrong gradient, a deadlock in
 * the worker pool). The second thread is refused at the door, before it touches anything, so the call
 * in progress completes correctly and the executor stays usable, by either thread, afterwards.
 * Re-entry by the owning thread (an observer calling back) is allowed. Allocates nothing unless it
 * refuses.
 */
final class ConfinementGuard {

    private final AtomicReference<Thread> owner = new AtomicReference<>();
    /** Nesting depth of the owner's calls; only the owner reads or writes it. */
    private int depth;

    /**
     * Takes the executor for the current thread.
     *
     * @throws ConcurrentModificationException if another thread is using it
     */
    void enter(String method) {
        Thread me = Thread.currentThread();
        if (owner.get() == me) {
            depth++;
            return;
        }
        if (!owner.compareAndSet(null, me)) {
            Thread other = owner.get();
            throw new ConcurrentModificationException("Executor." + method + " called from thread '" + me.getName()
                    + "' while thread '" + (other == null ? "(finishing)" : other.getName())
                    + "' is using the same executor: an Executor runs one call at a time; give each thread its own");
        }
        depth = 1;
    }

    /** Releases the executor after the matching {@link #enter}. */
    void exit() {
        if (--depth == 0) {
            owner.set(null);
        }
    }
}
