package dev.checkprop.exec;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of threads that runs one job at a time, split into {@code parts} pieces: the caller
 * runs part 0, each worker one other part, and {@link #run} returns when all are done. Nothing is
 * allocated per job, which keeps a training step free of garbage.
 *
 * <p>Jobs at layer granularity last from tens of microseconds to milliseconds, so waiting threads
 * spin briefly before they park: parking costs about as much as a small job.
 */
final class WorkerPool implements AutoCloseable {

    /** One piece of work, told which part of how many it is. */
    interface Job {
        void run(int part, int parts);
    }

    private static final long SPIN_NANOS = 50_000;

    private final int parts;
    private final Thread[] workers;
    private final AtomicInteger remaining = new AtomicInteger();
    private volatile Job job;
    private volatile long generation;
    private volatile boolean closed;
    private volatile Thread caller;
    private volatile Throwable failure;

    WorkerPool(int parts, String name) {
        if (parts < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + parts);
        }
        this.parts = parts;
        this.workers = new Thread[parts - 1];
        for (int w = 0; w < workers.length; w++) {
            final int part = w + 1;
            Thread t = new Thread(() -> loop(part), name + "-" + part);
            t.setDaemon(true);
            workers[w] = t;
            t.start();
        }
    }

    int parts() {
        return parts;
    }

    /** Runs every part of {@code j} and returns when all have finished; rethrows a worker's failure. */
    void run(Job j) {
        if (parts == 1) {
            j.run(0, 1);
            return;
        }
        if (closed) {
            throw new IllegalStateException("the executor has been closed");
        }
        caller = Thread.currentThread();
        failure = null;
        job = j;
        remaining.set(parts - 1);
        generation = generation + 1;
        for (Thread t : workers) {
            LockSupport.unpark(t);
        }
        Throwable mine = null;
        try {
            j.run(0, parts);
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

    private void loop(int part) {
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
                job.run(part, parts);
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
