package dev.checkprop.train;

import org.junit.jupiter.api.Assumptions;

import java.lang.management.ManagementFactory;

/** Counts the bytes the current thread allocates, where the JVM can tell. */
final class Allocation {

    private Allocation() {
    }

    /** Runs {@code r} once to warm it up, then answers the bytes a second run allocates. */
    static long measure(Runnable r) {
        if (!(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean bean)
                || !bean.isThreadAllocatedMemorySupported() || !bean.isThreadAllocatedMemoryEnabled()) {
            Assumptions.abort("this JVM does not count allocated bytes per thread");
            return -1;
        }
        r.run();
        long before = bean.getCurrentThreadAllocatedBytes();
        r.run();
        return bean.getCurrentThreadAllocatedBytes() - before;
    }
}
