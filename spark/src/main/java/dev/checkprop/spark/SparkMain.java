package dev.checkprop.spark;

import dev.checkprop.io.ModelFile;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.train.Adam;
import dev.checkprop.train.HessianFree;
import dev.checkprop.train.LearningRate;
import dev.checkprop.train.Optimizer;
import dev.checkprop.train.Sgd;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The driver's command line ({@code spark/checkprop-spark}, or {@code spark-submit --class
 * dev.checkprop.spark.SparkMain}):
 * <pre>
 * [--master M] [--conf KEY=VALUE]... grad  --model M --data D [--idx-labels L | --targets T] --loss L [--plan P]
 *                                          --partitions K --out G [--report R] [--threads T] [--repeat N] [--local]
 * [--master M] [--conf KEY=VALUE]... train --model M --data D [--idx-labels L | --targets T] --loss L [--plan P] --partitions K
 *                                          --optimizer adam|sgd|hessian-free --steps S [--lr X]
 *                                          [--batch-per-shard B] [--seed S] [--cg N] [--save OUT] [--report R] [--local]
 * </pre>
 * {@code --local} runs the single-machine equivalent ({@link LocalShards}) instead of Spark. Exit
 * code 2 and one line on bad input, as the library's command line.
 */
public final class SparkMain {

    private SparkMain() {
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        int code = run(args, out, err, null);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /**
     * Runs a command; with {@code sc} given, on that context (tests share one), else on a context of
     * its own from {@code --master} (or what spark-submit set).
     */
    public static int run(String[] args, PrintWriter out, PrintWriter err, JavaSparkContext sc) {
        try {
            Options o = Options.parse(args);
            return switch (o.command) {
                case "grad" -> withContext(o, sc, ctx -> grad(o, ctx, out));
                case "train" -> withContext(o, sc, ctx -> train(o, ctx, out));
                default -> throw new IllegalArgumentException("unknown command '" + o.command + "': grad or train");
            };
        } catch (IllegalArgumentException | IllegalStateException | IOException | SparkShards.ShardFailure e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
    }

    @FunctionalInterface
    private interface Body {
        int run(JavaSparkContext sc) throws IOException;
    }

    private static int withContext(Options o, JavaSparkContext given, Body body) throws IOException {
        if (o.local || given != null) {
            return body.run(given);
        }
        SparkConf conf = new SparkConf().setAppName("checkprop");
        if (o.master != null) {
            conf.setMaster(o.master);
        }
        conf.setIfMissing("spark.ui.enabled", "false");
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        if (conf.get("spark.master", "").startsWith("local")) {
            conf.setIfMissing("spark.driver.host", "127.0.0.1");
            conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
        }
        for (String[] kv : o.conf) {
            conf.set(kv[0], kv[1]);
        }
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            return body.run(sc);
        }
    }

    private static ShardBackend open(Options o, JavaSparkContext sc, StateModel.Mode mode) throws IOException {
        byte[] model = Files.readAllBytes(o.path("--model"));
        Loss loss = Loss.parse(o.require("--loss"));
        int k = o.integer("--partitions", -1);
        if (k < 1) {
            throw new IllegalArgumentException("--partitions K (K >= 1) is required");
        }
        // The single-machine train's data options: IDX with --idx-labels, else .safetensors or .csv (--targets T).
        DataFile data = DataFile.of(o.require("--data"), o.get("--idx-labels", null), o.integer("--targets", 0));
        String plan = o.get("--plan", "full");
        int threads = o.integer("--threads", 1);
        int mini = o.integer("--batch-per-shard", 0);
        long seed = o.integer("--seed", 1);
        return o.local || sc == null
                ? LocalShards.open(model, data, loss, plan, k, mode, threads, mini, seed)
                : SparkShards.open(sc, model, data, loss, plan, k, mode, threads, mini, seed);
    }

    private static int grad(Options o, JavaSparkContext sc, PrintWriter out) throws IOException {
        Path outPath = Path.of(o.require("--out"));
        int repeat = o.integer("--repeat", 1);
        try (ShardBackend shards = open(o, sc, StateModel.Mode.GRADIENT)) {
            Network net = shards.network();
            Gradients g = Gradients.zerosLike(net);
            double loss = 0;
            List<ShardBackend.Timing> times = new ArrayList<>();
            for (int rep = 0; rep < repeat; rep++) {
                loss = shards.gradient(g, 0);
                times.add(shards.lastTiming());
            }
            ModelFile.saveGradients(net, g, loss, outPath);
            ShardBackend.Timing t = times.get(times.size() - 1);
            out.printf(Locale.ROOT, "%d partitions on %s: loss %.6g, plans %s; last call %.4f s (broadcast %.4f, setup %.4f,"
                            + " compute %.4f, collect %.4f, combine %.4f)%n", shards.shards(), where(o, sc), loss, shards.plans(),
                    t.total(), t.broadcast(), t.setup(), t.compute(), t.collect(), t.combine());
            if (repeat > 1) {
                double[] totals = times.stream().skip(1).mapToDouble(ShardBackend.Timing::total).sorted().toArray();
                double[] computes = times.stream().skip(1).mapToDouble(ShardBackend.Timing::compute).sorted().toArray();
                out.printf(Locale.ROOT, "after the first call: median %.4f s per call, median slowest-shard compute %.4f s%n",
                        totals[totals.length / 2], computes[computes.length / 2]);
            }
            if (o.has("--report")) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("plan", o.get("--plan", "full"));
                r.put("shard_plans", shards.plans());
                r.put("layers", net.depth());
                r.put("batch", shards.rows());
                r.put("shards", shards.shards());
                r.put("master", where(o, sc));
                r.put("loss_function", Loss.parse(o.require("--loss")).cliName());
                r.put("loss", loss);
                r.put("seconds", times.get(0).total());
                r.put("seconds_per_step", times.stream().mapToDouble(ShardBackend.Timing::total).toArray());
                r.put("broadcast_seconds", times.stream().mapToDouble(ShardBackend.Timing::broadcast).toArray());
                r.put("setup_seconds", times.stream().mapToDouble(ShardBackend.Timing::setup).toArray());
                r.put("compute_seconds", times.stream().mapToDouble(ShardBackend.Timing::compute).toArray());
                r.put("collect_seconds", times.stream().mapToDouble(ShardBackend.Timing::collect).toArray());
                r.put("repeat", repeat);
                Json.write(r, Path.of(o.get("--report", "")));
            }
        }
        return 0;
    }

    private static int train(Options o, JavaSparkContext sc, PrintWriter out) throws IOException {
        String optimizer = o.require("--optimizer");
        int steps = o.integer("--steps", 10);
        boolean hf = optimizer.equals("hessian-free");
        try (ShardBackend shards = open(o, sc, hf ? StateModel.Mode.CURVATURE : StateModel.Mode.GRADIENT)) {
            Network net = shards.network();
            double lr = Double.parseDouble(o.get("--lr", "1e-3"));
            List<Double> losses = new ArrayList<>();
            List<double[]> times = new ArrayList<>();
            ShardedHessianFree hessianFree = hf ? new ShardedHessianFree(shards,
                    HessianFree.Settings.defaults().withMaxCgIterations(o.integer("--cg", 20))) : null;
            Optimizer opt = switch (optimizer) {
                case "adam" -> new Adam(net, LearningRate.constant(lr));
                case "sgd" -> new Sgd(net, LearningRate.constant(lr));
                case "hessian-free" -> null;
                default -> throw new IllegalArgumentException("--optimizer must be adam, sgd or hessian-free, got '"
                        + optimizer + "'");
            };
            Gradients g = Gradients.zerosLike(net);
            for (int s = 0; s < steps; s++) {
                double[] t = new double[6];
                double loss;
                int jobs;
                if (hf) {
                    long before = hessianFree.jobs();
                    // Time every job of the step: wrap by summing the backend's timings per call.
                    TimingSum sum = new TimingSum(shards);
                    HessianFree.StepReport rep = hessianFree.step(s);
                    sum.done(t);
                    loss = rep.loss();
                    jobs = (int) (hessianFree.jobs() - before);
                } else {
                    long t0 = System.nanoTime();
                    loss = shards.gradient(g, s);
                    ShardBackend.Timing tm = shards.lastTiming();
                    if (!Double.isFinite(loss)) {
                        throw new IllegalStateException("the loss became " + loss + " at step " + s + ": lower the learning rate");
                    }
                    opt.step(g, s);
                    shards.parametersChanged();
                    t[0] = tm.broadcast();
                    t[5] = tm.setup();
                    t[1] = tm.compute();
                    t[2] = tm.collect();
                    t[3] = tm.combine();
                    t[4] = (System.nanoTime() - t0) / 1e9;
                    jobs = 1;
                }
                losses.add(loss);
                times.add(t);
                out.printf(Locale.ROOT, "step %3d  loss %.9g  %d job%s  %.4f s (broadcast %.4f, setup %.4f, compute %.4f,"
                                + " collect %.4f)%n", s, loss, jobs, jobs == 1 ? "" : "s", t[4], t[0], t[5], t[1], t[2]);
            }
            if (o.has("--save")) {
                ModelFile.save(net, Path.of(o.get("--save", "")));
            }
            out.printf(Locale.ROOT, "%s, %d steps on %d partitions (%s), plans %s: final loss %.9g%n", optimizer, steps,
                    shards.shards(), where(o, sc), shards.plans(), losses.isEmpty() ? Double.NaN : losses.get(losses.size() - 1));
            if (o.has("--report")) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("optimizer", optimizer);
                r.put("plan", o.get("--plan", "full"));
                r.put("shard_plans", shards.plans());
                r.put("shards", shards.shards());
                r.put("master", where(o, sc));
                r.put("steps", steps);
                r.put("losses", losses.stream().mapToDouble(Double::doubleValue).toArray());
                r.put("seconds_per_step", times.stream().mapToDouble(t -> t[4]).toArray());
                r.put("broadcast_seconds", times.stream().mapToDouble(t -> t[0]).toArray());
                r.put("setup_seconds", times.stream().mapToDouble(t -> t[5]).toArray());
                r.put("compute_seconds", times.stream().mapToDouble(t -> t[1]).toArray());
                r.put("collect_seconds", times.stream().mapToDouble(t -> t[2]).toArray());
                Json.write(r, Path.of(o.get("--report", "")));
            }
        }
        return 0;
    }

    private static String where(Options o, JavaSparkContext sc) {
        return sc == null ? "this machine (--local)" : sc.master();
    }

    /** Sums the timings of every backend call between its creation and {@link #done}. */
    private static final class TimingSum {
        private final long t0 = System.nanoTime();
        private final ShardBackend shards;

        TimingSum(ShardBackend shards) {
            this.shards = shards;
            shards.timingListener = t -> {
                sums[0] += t.broadcast();
                sums[1] += t.compute();
                sums[2] += t.collect();
                sums[3] += t.combine();
                sums[4] += t.setup();
            };
        }

        private final double[] sums = new double[5];

        void done(double[] t) {
            shards.timingListener = null;
            System.arraycopy(sums, 0, t, 0, 4);
            t[5] = sums[4];
            t[4] = (System.nanoTime() - t0) / 1e9;
        }
    }

    /** {@code --key value} options after an optional {@code --master M} and {@code --conf K=V} before the command. */
    static final class Options {
        String master;
        final List<String[]> conf = new ArrayList<>();
        String command;
        boolean local;
        final Map<String, String> values = new LinkedHashMap<>();

        static Options parse(String[] args) {
            Options o = new Options();
            int i = 0;
            while (i < args.length && args[i].startsWith("--")) {
                String a = args[i];
                if (a.equals("--master") && i + 1 < args.length) {
                    o.master = args[i + 1];
                } else if (a.equals("--conf") && i + 1 < args.length && args[i + 1].contains("=")) {
                    String kv = args[i + 1];
                    o.conf.add(new String[] {kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1)});
                } else {
                    throw new IllegalArgumentException("before the command: --master M or --conf KEY=VALUE, got " + a);
                }
                i += 2;
            }
            if (i >= args.length) {
                throw new IllegalArgumentException("a command is required: grad or train");
            }
            o.command = args[i++];
            for (; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--local")) {
                    o.local = true;
                    continue;
                }
                if (!a.startsWith("--") || i + 1 >= args.length) {
                    throw new IllegalArgumentException("expected --option value, got '" + a + "'");
                }
                o.values.put(a, args[++i]);
            }
            return o;
        }

        boolean has(String key) {
            return values.containsKey(key);
        }

        String get(String key, String fallback) {
            return values.getOrDefault(key, fallback);
        }

        String require(String key) {
            String v = values.get(key);
            if (v == null) {
                throw new IllegalArgumentException(key + " is required");
            }
            return v;
        }

        Path path(String key) {
            return Path.of(require(key));
        }

        int integer(String key, int fallback) {
            String v = values.get(key);
            if (v == null) {
                return fallback;
            }
            try {
                return Integer.parseInt(v.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " must be an integer, got '" + v + "'");
            }
        }
    }
}
