package dev.checkprop.exec;

import dev.checkprop.reference.TestNets;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ConcurrentModificationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13, case 4: one executor used from two threads. The second thread is refused at once with a
 * clear exception, the call in progress returns the right gradient, and the executor keeps working.
 */
class ConfinementTest {

    private static final Network NET = TestNets.chain(16, 24, 32, Activation.TANH, 4, Activation.IDENTITY, 5);
    private static final Batch BATCH = Batch.regression(TestNets.uniform(64 * 16, 1, 1, 1f), 16,
            TestNets.uniform(64 * 4, 1, 2, 1f), 4);

    private static Gradients reference() {
        Gradients g = Gradients.zerosLike(NET);
        try (Executor ex = new Executor(NET, Planners.parse("sqrt").plan(NET.depth()), 64, Kernels.get(), 1)) {
            ex.gradient(BATCH, Loss.MSE, g);
        }
        return g;
    }

    @Test
    @Timeout(60)
    void aSecondThreadIsRefusedWhileTheFirstCompletesCorrectly() throws Exception {
        Gradients expected = reference();
        try (Executor ex = new Executor(NET, Planners.parse("sqrt").plan(NET.depth()), 64, Kernels.get(), 2)) {
            AtomicReference<Throwable> intruder = new AtomicReference<>();
            AtomicReference<String> intruderName = new AtomicReference<>();
            // The observer runs inside the first thread's gradient: a deterministic overlap.
            ex.setListener(ExecutionListener.onBackward((layer, out, n) -> {
                if (layer == 12 && intruder.get() == null) {
                    Thread t = new Thread(() -> {
                        try {
                            ex.gradient(BATCH, Loss.MSE, Gradients.zerosLike(NET));
                            intruder.set(new AssertionError("the second thread was let in"));
                        } catch (Throwable e) {
                            intruder.set(e);
                        }
                    }, "intruder");
                    intruderName.set(Thread.currentThread().getName());
                    t.start();
                    try {
                        t.join();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                }
            }));
            Gradients g = Gradients.zerosLike(NET);
            ex.gradient(BATCH, Loss.MSE, g);
            assertTrue(g.bitEquals(expected), "the call in progress returned a different gradient");
            Throwable e = intruder.get();
            assertNotNull(e);
            assertEquals(ConcurrentModificationException.class, e.getClass(), String.valueOf(e));
            assertEquals("Executor.gradient called from thread 'intruder' while thread '" + intruderName.get()
                    + "' is using the same executor: an Executor runs one call at a time; give each thread its own",
                    e.getMessage());
            ex.setListener(null);
            // Closing from another thread during a call is refused too: the call would wait forever.
            AtomicReference<Throwable> closer = new AtomicReference<>();
            ex.setListener(ExecutionListener.onBackward((layer, out, n) -> {
                if (layer == 5 && closer.get() == null) {
                    Thread t = new Thread(() -> {
                        try {
                            ex.close();
                            closer.set(new AssertionError("close was let in"));
                        } catch (Throwable failure) {
                            closer.set(failure);
                        }
                    }, "closer");
                    t.start();
                    try {
                        t.join();
                    } catch (InterruptedException interrupted) {
                        throw new AssertionError(interrupted);
                    }
                }
            }));
            Gradients during = Gradients.zerosLike(NET);
            ex.gradient(BATCH, Loss.MSE, during);
            assertTrue(during.bitEquals(expected));
            assertEquals(ConcurrentModificationException.class, closer.get().getClass(), String.valueOf(closer.get()));
            ex.setListener(null);
            // Still usable, from another thread too.
            Gradients again = Gradients.zerosLike(NET);
            Thread other = new Thread(() -> ex.gradient(BATCH, Loss.MSE, again));
            other.start();
            other.join();
            assertTrue(again.bitEquals(expected), "the executor was left broken");
        }
    }

    @Test
    @Timeout(60)
    void twoThreadsHammeringOneExecutorNeverDeadlockOrReturnAWrongGradient() throws Exception {
        Gradients expected = reference();
        try (Executor ex = new Executor(NET, Planners.parse("sqrt").plan(NET.depth()), 64, Kernels.get(), 2)) {
            AtomicInteger refused = new AtomicInteger();
            AtomicInteger completed = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch start = new CountDownLatch(1);
            Runnable worker = () -> {
                Gradients g = Gradients.zerosLike(NET);
                try {
                    start.await();
                    for (int i = 0; i < 150; i++) {
                        try {
                            ex.gradient(BATCH, Loss.MSE, g);
                            if (!g.bitEquals(expected)) {
                                failure.compareAndSet(null, new AssertionError("wrong gradient on call " + i));
                            }
                            completed.incrementAndGet();
                        } catch (ConcurrentModificationException e) {
                            refused.incrementAndGet();
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            };
            Thread a = new Thread(worker);
            Thread b = new Thread(worker);
            a.start();
            b.start();
            start.countDown();
            a.join();
            b.join();
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            assertEquals(300, refused.get() + completed.get());
            assertTrue(completed.get() >= 150, "completed " + completed.get());
        }
    }
}
