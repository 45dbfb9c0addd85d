package dev.checkprop.bench;

import dev.checkprop.exec.Executor;
import dev.checkprop.exec.RunStats;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.memory.ArrayLayout;
import dev.checkprop.memory.MemoryModel;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;
import dev.checkprop.plan.StepTimeModel;
import dev.checkprop.plan.StepTimes;
import dev.checkprop.plan.Tier;
import dev.checkprop.select.PlanSelection;
import dev.checkprop.select.TierProbe;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The measured comparison of docs/tiers.md: heap-only against tiered plans at the same heap budget,
 * on a network where recomputation dominates. One JVM, one network, one probe; for each budget the
 * plans {@code budget:B}, {@code tiered:B} (the probe's tiers) and {@code tiered:B,disk:CAP} (disk only)
 * each get an executor and a warm-up step, then run in rounds, one step of each plan per round, so a
 * slow period of a shared machine falls on all of them; the table gives the median of the rounds.
 * Every plan's gradient is checked bit for bit against the first plan's.
 *
 * <pre>java --add-modules jdk.incubator.vector -Xmx2g -cp benchmarks/target/benchmarks.jar dev.checkprop.bench.TieredStep \
 *     [--layers 200] [--width 512] [--batch 1024] [--heap 12MiB,18MiB,30MiB] [--rounds 5] [--threads 2]</pre>
 */
public final class TieredStep {

    private TieredStep() {
    }

    public static void main(String[] args) {
        int layers = 200;
        int width = 512;
        int batch = 1024;
        int rounds = 5;
        int threads = 2;
        String heaps = "12MiB,18MiB,30MiB";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--layers" -> layers = Integer.parseInt(args[i + 1]);
                case "--width" -> width = Integer.parseInt(args[i + 1]);
                case "--batch" -> batch = Integer.parseInt(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--heap" -> heaps = args[i + 1];
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        final Network net = Network.builder(width).dense(layers - 1, width, Activation.TANH)
                .dense(width, Activation.IDENTITY).build(16);
        final Random r = new Random(16);
        final float[] x = new float[batch * width];
        final float[] y = new float[batch * width];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
            y[i] = (float) r.nextGaussian();
        }
        final Batch data = Batch.regression(x, width, y, width);
        final long t0 = System.nanoTime();
        final StepTimeModel model = TierProbe.model(net, batch, StateModel.Mode.GRADIENT, threads);
        System.out.printf(Locale.ROOT, "%s, batch %d, %d threads; probe %.0f ms: %s%n", net, batch, threads,
                (System.nanoTime() - t0) / 1e6, model);
        final StepTimes times = model.times(MemoryModel.chain(net, batch, StateModel.Mode.GRADIENT,
                ArrayLayout.current().heapFootprint()), copyBytes(net, batch));
        System.out.println();
        System.out.println("| heap budget | plan | forward evaluations | off-heap written + read | disk written + read"
                + " | predicted | measured (median) | measured / heap-only | predicted / measured |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        for (String heap : heaps.split(",")) {
            final long b = Planners.parseBytes(heap);
            final String[] specs = {"budget:" + heap, "tiered:" + heap, "tiered:" + heap + ",disk:64GiB"};
            final List<Executor> ex = new ArrayList<>();
            final List<Gradients> grads = new ArrayList<>();
            final double[][] ms = new double[specs.length][rounds];
            final RunStats[] stats = new RunStats[specs.length];
            final long[] predicted = new long[specs.length];
            try {
                for (String spec : specs) {
                    final Plan p = PlanSelection.select(spec, net, batch).plan();
                    predicted[ex.size()] = times.predict(p).totalNanos();
                    ex.add(new Executor(net, p, batch, Kernels.get(), threads));
                    final Gradients g = Gradients.zerosLike(net);
                    grads.add(g);
                    ex.get(ex.size() - 1).gradient(data, Loss.MSE, g); // warm-up step
                }
                for (int round = 0; round < rounds; round++) {
                    for (int k = 0; k < specs.length; k++) {
                        final long s = System.nanoTime();
                        ex.get(k).gradient(data, Loss.MSE, grads.get(k));
                        ms[k][round] = (System.nanoTime() - s) / 1e6;
                        stats[k] = ex.get(k).lastRun();
                    }
                }
            } finally {
                for (Executor e : ex) {
                    e.close();
                }
            }
            final double heapOnly = median(ms[0]);
            for (int k = 0; k < specs.length; k++) {
                if (!grads.get(k).bitEquals(grads.get(0))) {
                    throw new IllegalStateException(specs[k] + " gave a different gradient from " + specs[0]);
                }
                final double med = median(ms[k]);
                System.out.printf(Locale.ROOT, "| %s | `%s` | %d | %s | %s | %.2f s | %.2f s (%s) | %.2f | %.2f |%n",
                        Planners.humanBytes(b), ex.get(k).plan().name(), stats[k].forwardEvaluations(),
                        moved(stats[k], Tier.OFF_HEAP), moved(stats[k], Tier.DISK), predicted[k] / 1e9, med / 1e3,
                        spread(ms[k]), med / heapOnly, predicted[k] / 1e6 / med);
            }
        }
    }

    private static long[] copyBytes(Network net, int batch) {
        final long[] f = StateModel.floats(net, batch);
        final long[] c = new long[net.depth()];
        for (int l = 1; l <= net.depth(); l++) {
            c[l - 1] = StateModel.copyBytes(f[l], StateModel.Mode.GRADIENT);
        }
        return c;
    }

    private static String moved(RunStats s, Tier t) {
        final long w = s.bytesWritten(t);
        final long rd = s.bytesRead(t);
        return w == 0 && rd == 0 ? "–" : Planners.humanBytes(w) + " + " + Planners.humanBytes(rd);
    }

    private static double median(double[] v) {
        final double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String spread(double[] v) {
        final double[] s = v.clone();
        Arrays.sort(s);
        return String.format(Locale.ROOT, "%.2f–%.2f", s[0] / 1e3, s[s.length - 1] / 1e3);
    }
}
