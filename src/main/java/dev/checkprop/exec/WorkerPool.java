package dev.checkprop.exec;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of threads that runs one job at a time: the caller and every worker run the same
 * job, which shares its work out itself (the executor's jobs take chunks from a counter), and
 * {@link #run} returns when all are done. Nothing is allocated per job, which keeps a training
 * step free of garbage.
 *
 * <p>Jobs at layer granularity last from tens of microseconds to milliseconds, so waiting threads
 * spin briefly before they park: parking costs about as much as a small job.
 */
final class WorkerPool implements AutoCloseable {

    /** Work that every thread of the team runs at once. */
    interface Job {
        void run();
    }

    private static final long SPIN_NANOS = 50_000;

    /** Threads in the team, the caller included. */
    private final int threads;
    private final Thread[] workers;
    private final AtomicInteger remaining = new AtomicInteger();
    private volatile Job job;
    private volatile long generation;
    private volatile boolean closed;
    private volatile Thread caller;
    private volatile Throwable failure;

    WorkerPool(int threads, String name) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int w = 0; w < workers.length; w++) {
            Thread t = new Thread(this::loop, name + "-" + (w + 1));
            t.setDaemon(true);
            workers[w] = t;
            t.start();
        }
    }

    int threads() {
        return threads;
    }

    /** Runs {@code j} on every thread and returns when all have finished; rethrows a worker's failure. */
    void run(Job j) {
        if (threads == 1) {
            j.run();
            return;
        }
        if (closed) {
            throw new IllegalStateException("the executor has been closed");
        }
        caller = Thread.currentThread();
        failure = null;
        job = j;
        remaining.set(threads - 1);
        generation = generation + 1;
        for (Thread t : workers) {
            LockSupport.unpark(t);
        }
        Throwable mine = null;
        try {
            j.run();
        } catch (Throwable e) {
            mine = e;
        }
        long start = System.nanoTime();
        while (remaining.get() != 0) {
            if (System.nanoTime() - start < SPIN_NANOS) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, 100_000);
            }
        }
        job = null;
        Throwable t = mine != null ? mine : failure;
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error er) {
            throw er;
        }
    }

    private void loop() {
        long seen = 0;
        while (true) {
            long start = System.nanoTime();
            while (generation == seen && !closed) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            if (closed) {
                return;
            }
            seen = generation;
            try {
                job.run();
            } catch (Throwable e) {
                failure = e;
            }
            if (remaining.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) {
            LockSupport.unpark(t);
        }
    }
}
