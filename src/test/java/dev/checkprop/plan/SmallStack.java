package dev.checkprop.plan;

import java.util.concurrent.Callable;

/** Runs a task on a thread with a 256 KiB stack, as a JVM started with {@code -Xss256k} would. */
final class SmallStack {

    static final long STACK_BYTES = 256 * 1024;

    private SmallStack() {
    }

    static <T> T call(Callable<T> task) throws Exception {
        Object[] result = new Object[1];
        Throwable[] failure = new Throwable[1];
        Thread t = new Thread(null, () -> {
            try {
                result[0] = task.call();
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "small-stack", STACK_BYTES);
        t.start();
        t.join();
        if (failure[0] instanceof Exception e) {
            throw e;
        }
        if (failure[0] instanceof Error e) {
            throw e;
        }
        @SuppressWarnings("unchecked")
        T r = (T) result[0];
        return r;
    }
}
