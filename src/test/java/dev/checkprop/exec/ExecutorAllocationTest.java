package dev.checkprop.exec;

import dev.checkprop.reference.TestNets;
import dev.checkprop.nn.Curvature;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A step allocates nothing, on the calling thread or on the executor's workers: buffers come from
 * pools sized by the plan, jobs and their chunk counters are fields. Measured with the JVM's
 * per-thread allocation counters on the scalar kernels. (The Vector API allocates a box for every
 * vector in the interpreter, and in compiled code wherever C2 did not inline a method that takes or
 * returns one. A test of the compiled vector path was tried: in some JVM runs C2's code for this
 * small network kept allocating 100-300 KB per three steps for 5000 windows, in others it reached
 * 0, depending on profiles; see docs/speed.md. It caught two real boxing sites, now fixed, but it
 * cannot be made deterministic, so it is not in the suite.)
 */
class ExecutorAllocationTest {

    @ParameterizedTest
    @CsvSource({"full, 1", "full, 2", "sqrt, 2", "binomial:3, 1", "binomial:3, 2", "optimal:4, 2"})
    void aStepAllocatesNothingOnAnyThread(String planSpec, int threads) {
        check(planSpec, threads, Kernels.scalar(), 30, 5);
    }

    /**
     * A tiered plan (writes to both tiers, reads, some hoisted): nothing allocated per step on the
     * calling thread, the workers or the tiers' I/O thread either.
     */
    @ParameterizedTest
    @CsvSource({"1", "2"})
    void aTieredStepAllocatesNothingOnAnyThread(int threads, @org.junit.jupiter.api.io.TempDir java.nio.file.Path spill) {
        check("tiered", threads, Kernels.scalar(), 30, 5, spill);
    }

    private static void check(String planSpec, int threads, dev.checkprop.kernel.DenseKernels kernels, int warmSteps,
                              int maxWindows) {
        check(planSpec, threads, kernels, warmSteps, maxWindows, null);
    }

    private static void check(String planSpec, int threads, dev.checkprop.kernel.DenseKernels kernels, int warmSteps,
                              int maxWindows, java.nio.file.Path spill) {
        if (!(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean bean)
                || !bean.isThreadAllocatedMemorySupported() || !bean.isThreadAllocatedMemoryEnabled()) {
            Assumptions.abort("this JVM does not count allocated bytes per thread");
            return;
        }
        Network net = TestNets.withRandomBias(Network.builder(9).dense(40, Activation.TANH).residual(2, Activation.RELU)
                .dropout(0.2f).dense(24, Activation.SIGMOID).dense(3, Activation.IDENTITY).build(5), 3);
        Batch data = TestNets.regression(net, 37, 4);
        Plan plan = planSpec.equals("tiered")
                ? dev.checkprop.plan.RandomTierPlans.derive(Planners.parse("sqrt").plan(net.depth()), new java.util.Random(3), 0.8, 0.9)
                : Planners.parse(planSpec).plan(net.depth());
        assertEquals(planSpec.equals("tiered"), plan.usesTiers(), plan.actionsText());
        Gradients g = Gradients.zerosLike(net);
        Gradients v = Gradients.zerosLike(net);
        Gradients product = Gradients.zerosLike(net);
        try (Executor ex = new Executor(net, plan, data.size(), kernels, threads, spill);
             Executor hvp = Executor.forHessianProducts(net, plan, data.size(), kernels, threads, spill)) {
            Runnable steps = () -> {
                for (int s = 0; s < 3; s++) {
                    ex.setStep(s);
                    ex.gradient(data, Loss.MSE, g);
                    hvp.hessianVector(data, Loss.MSE, v, null, product, Curvature.HESSIAN);
                }
            };
            // Warm up until the JIT has settled: a deoptimisation can allocate (it materialises objects
            // that compiled code had kept in registers), which is not the executor's doing. A window of
            // steps is measured up to five times: allocation per step shows in every window, a late
            // compilation event in one at most.
            for (int warm = 0; warm < warmSteps; warm++) {
                steps.run();
            }
            long[] ids = executorThreads(threads, plan.usesTiers());
            List<Long> windows = new ArrayList<>();
            final long deadline = System.nanoTime() + 20_000_000_000L;
            for (int window = 0; window < maxWindows && System.nanoTime() < deadline; window++) {
                long before = allocated(bean, ids);
                steps.run();
                long bytes = allocated(bean, ids) - before;
                windows.add(bytes);
                if (bytes == 0) {
                    break;
                }
            }
            assertEquals(0L, windows.get(windows.size() - 1).longValue(),
                    planSpec + " with " + threads + " threads, " + kernels.name()
                            + " kernels, allocated per window of 3 steps: " + windows.subList(0, Math.min(12, windows.size()))
                            + " ... " + windows.get(windows.size() - 1) + " (" + windows.size() + " windows)");
        }
    }

    /** The calling thread and every live worker of the executors. */
    private static long[] executorThreads(int threads, boolean tiers) {
        List<Long> ids = new ArrayList<>();
        ids.add(Thread.currentThread().getId());
        int io = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("checkprop-executor") && t.isAlive()) {
                ids.add(t.getId());
            }
            if (t.getName().startsWith("checkprop-tier-io") && t.isAlive()) {
                ids.add(t.getId());
                io++;
            }
        }
        assertTrue(!tiers || io >= 2, "found the I/O threads of both executors: " + io);
        // Two executors, threads - 1 workers each (other tests' closed workers have exited or are exiting).
        assertTrue(ids.size() >= 1 + 2 * (threads - 1), "found the workers: " + ids);
        return ids.stream().mapToLong(Long::longValue).toArray();
    }

    /** One thread at a time: the array form would allocate its answer between the two readings. */
    private static long allocated(com.sun.management.ThreadMXBean bean, long[] ids) {
        long sum = 0;
        for (long id : ids) {
            long b = bean.getThreadAllocatedBytes(id);
            if (b > 0) {
                sum += b;
            }
        }
        return sum;
    }
}
