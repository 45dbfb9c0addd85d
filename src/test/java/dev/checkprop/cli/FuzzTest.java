package dev.checkprop.cli;

import dev.checkprop.hvp.DirectionFile;
import dev.checkprop.io.AtomicFiles;
import dev.checkprop.io.ModelFile;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.Seeds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 13: seeded mutations of every file format (safetensors model, data and directions; CSV; IDX)
 * and of command lines. Every run must end with exit code 0 (the mutation left a valid input) or 2
 * with exactly one line and no stack trace or out-of-memory; no input file may change; no temporary
 * file may be left. Most mutations must be refused, or the fuzzer is not reaching the checks.
 *
 * <p>Each part runs in a child JVM with a 256 MiB heap ({@link #main}): a small heap makes an
 * out-of-memory real, and the thousands of odd networks the fuzz builds must not shape the JIT
 * profile of the tests that follow in the suite's JVM (the allocation test's compiled vector code
 * boxed after them).
 */
class FuzzTest {

    private static final long SEED = 13;

    @TempDir
    Path tmp;

    /** Where the child's files live; set by {@link #main}. */
    Path dir;

    Path in;
    Path out;
    Path model;
    Path regression;
    Path labelled;
    Path direction;
    Path csv;
    Path images;
    Path labels;
    Path csvModel;
    Path idxModel;

    private void part(String name) throws Exception {
        ChildJvm.Result r = ChildJvm.runMain(tmp, "256m", FuzzTest.class, name, tmp.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("FuzzTest " + name + " passed"), r.out() + r.err());
    }

    @Test
    void mutatedFilesAreRefusedInOneLineAndChangeNothing() throws Exception {
        part("files");
    }

    @Test
    void mutatedCommandLinesAreRefusedInOneLineAndChangeNothing() throws Exception {
        part("commandLines");
    }

    @Test
    void theUnmutatedInputsAreAccepted() throws Exception {
        part("baseline");
    }

    /** Runs one part, {@code args[0]}, in the directory {@code args[1]}; exit code 1 on any failure. */
    public static void main(String[] args) {
        try {
            FuzzTest t = new FuzzTest();
            t.dir = Path.of(args[1]);
            t.files();
            switch (args[0]) {
                case "files" -> t.fuzzFiles();
                case "commandLines" -> t.fuzzCommandLines();
                case "baseline" -> t.baseline();
                default -> throw new IllegalArgumentException("unknown part " + args[0]);
            }
            System.out.println("FuzzTest " + args[0] + " passed");
            System.out.flush();
            System.exit(0);
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1);
        }
    }

    void files() throws IOException {
        in = Files.createDirectory(dir.resolve("in"));
        out = Files.createDirectory(dir.resolve("out"));
        Network net = Network.builder(3).dense(2, 4, Activation.TANH).dropout(0.25f).dense(2, Activation.IDENTITY).build(5);
        model = in.resolve("m.safetensors");
        ModelFile.save(net, model);
        float[] x = new float[6 * 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = 2f * Seeds.uniform(SEED, 1, i) - 1f;
        }
        regression = in.resolve("d.safetensors");
        ModelFile.saveData(Batch.regression(x, 3, Arrays.copyOf(x, 12), 2), regression);
        labelled = in.resolve("l.safetensors");
        ModelFile.saveData(Batch.classification(x, 3, new int[] {0, 1, 1, 0, 1, 0}), labelled);
        Gradients v = Gradients.zerosLike(net);
        v.weights(1)[2] = 0.5f;
        direction = in.resolve("v.safetensors");
        DirectionFile.toSafeTensors(net, v, Map.of()).write(direction);
        csv = in.resolve("c.csv");
        StringBuilder sb = new StringBuilder("a,b,label\n");
        for (int i = 0; i < 12; i++) {
            sb.append(String.format(java.util.Locale.ROOT, "%.3f,%.3f,%d%n", Seeds.uniform(SEED, 2, i), Seeds.uniform(SEED, 3, i), i % 3));
        }
        Files.writeString(csv, sb);
        csvModel = in.resolve("cm.safetensors");
        ModelFile.save(Network.builder(2).dense(4, Activation.RELU).dense(3, Activation.IDENTITY).build(2), csvModel);
        ByteArrayOutputStream img = new ByteArrayOutputStream();
        DataOutputStream o = new DataOutputStream(img);
        o.writeInt(0x0803);
        o.writeInt(6);
        o.writeInt(2);
        o.writeInt(2);
        for (int i = 0; i < 24; i++) {
            o.write(i * 10);
        }
        images = Files.write(in.resolve("img.idx"), img.toByteArray());
        ByteArrayOutputStream lab = new ByteArrayOutputStream();
        o = new DataOutputStream(lab);
        o.writeInt(0x0801);
        o.writeInt(6);
        o.write(new byte[] {0, 1, 2, 0, 1, 2});
        labels = Files.write(in.resolve("lab.idx"), lab.toByteArray());
        idxModel = in.resolve("im.safetensors");
        ModelFile.save(Network.builder(4).dense(3, Activation.IDENTITY).build(3), idxModel);
    }

    record Outcome(int code, String err) {
    }

    private static Outcome run(List<String> args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Main.run(args.toArray(String[]::new), new PrintWriter(o, true), new PrintWriter(e, true));
        return new Outcome(code, e.toString());
    }

    /** Mutates {@code original} in one of several ways a damaged or hostile file differs from a good one. */
    private static byte[] mutate(byte[] original, Random r) {
        byte[] b = original.clone();
        switch (r.nextInt(7)) {
            case 0 -> { // flip bits
                for (int k = 0, n = 1 + r.nextInt(4); k < n; k++) {
                    b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                }
            }
            case 1 -> b = Arrays.copyOf(b, r.nextInt(b.length)); // truncate
            case 2 -> { // random bytes in the first 64 (headers, lengths, magic numbers)
                for (int k = 0, n = 1 + r.nextInt(3); k < n; k++) {
                    b[r.nextInt(Math.min(64, b.length))] = (byte) r.nextInt(256);
                }
            }
            case 3 -> { // replace a digit in text with another, or with a sign or a letter
                List<Integer> digits = new ArrayList<>();
                for (int i = 0; i < b.length; i++) {
                    if (b[i] >= '0' && b[i] <= '9') {
                        digits.add(i);
                    }
                }
                if (!digits.isEmpty()) {
                    byte[] pool = "0123456789-e.x9\u00ff".getBytes(StandardCharsets.ISO_8859_1);
                    b[digits.get(r.nextInt(digits.size()))] = pool[r.nextInt(pool.length)];
                }
            }
            case 4 -> { // insert bytes
                int at = r.nextInt(b.length + 1);
                byte[] ins = new byte[1 + r.nextInt(9)];
                r.nextBytes(ins);
                byte[] c = new byte[b.length + ins.length];
                System.arraycopy(b, 0, c, 0, at);
                System.arraycopy(ins, 0, c, at, ins.length);
                System.arraycopy(b, at, c, at + ins.length, b.length - at);
                b = c;
            }
            case 5 -> { // a huge or negative 8-byte or 4-byte length at the start
                long v = switch (r.nextInt(4)) {
                    case 0 -> Long.MAX_VALUE;
                    case 1 -> -1L;
                    case 2 -> Integer.MAX_VALUE;
                    default -> r.nextInt(1 << 20);
                };
                int width = r.nextBoolean() ? 8 : 4;
                for (int i = 0; i < width && i < b.length; i++) {
                    b[i] = (byte) (v >>> (8 * (r.nextBoolean() ? i : width - 1 - i)));
                }
            }
            default -> { // a float's exponent set high: finite but huge values
                int at = b.length - 4 * (1 + r.nextInt(Math.max(1, b.length / 8)));
                if (at >= 0) {
                    b[at + 3] = (byte) 0x7F;
                    b[at + 2] = (byte) (0x70 | r.nextInt(16));
                }
            }
        }
        return b;
    }

    private Map<Path, byte[]> inputs() throws IOException {
        return ChildJvm.snapshot(in);
    }

    /** Checks one run's outcome; answers whether it was refused. */
    private boolean check(List<String> args, Outcome r, Map<Path, byte[]> before) throws IOException {
        String where = String.join(" ", args);
        if (r.code() != 0) {
            assertEquals(Main.EXIT_ERROR, r.code(), where + "\n" + r.err());
            List<String> lines = r.err().lines().toList();
            assertEquals(1, lines.size(), where + "\n" + r.err());
            String line = lines.get(0);
            if (System.getProperty("fuzz.show") != null) {
                System.out.println("FUZZ " + line);
            }
            assertTrue(line.startsWith("checkprop: "), where + "\n" + line);
            assertFalse(line.contains("Exception") || line.contains("Error") || line.contains("\tat "), where + "\n" + line);
            assertFalse(line.contains("out of memory"), where + "\n" + line);
        }
        ChildJvm.assertUnchanged(before, in);
        try (Stream<Path> s = Stream.concat(Files.list(in), Files.list(out))) {
            assertFalse(s.anyMatch(AtomicFiles::isTemporary), where + ": a temporary file was left");
        }
        return r.code() != 0;
    }

    /** Runs {@code runs} mutations of {@code file}; {@code command} builds the arguments for the mutated copy. */
    private void fuzzFile(Path file, int runs, long seed, Function<Path, List<String>> command) throws IOException {
        Random r = new Random(seed);
        byte[] original = Files.readAllBytes(file);
        String name = file.getFileName().toString();
        int refused = 0;
        for (int i = 0; i < runs; i++) {
            Path mutated = in.resolve("fuzz-" + name);
            Files.write(mutated, mutate(original, r));
            Map<Path, byte[]> before = inputs();
            List<String> args = command.apply(mutated);
            if (check(args, run(args), before)) {
                refused++;
            }
            Files.delete(mutated);
        }
        assertTrue(refused >= runs / 2, name + ": only " + refused + " of " + runs + " mutations were refused");
        System.out.println("FuzzTest: " + name + ": " + refused + " of " + runs + " mutations refused");
    }

    void fuzzFiles() throws IOException {
        long t0 = System.nanoTime();
        Path g = out.resolve("g.safetensors");
        fuzzFile(model, 300, SEED, m -> List.of("grad", "--model", m.toString(), "--data", regression.toString(),
                "--loss", "mse", "--out", g.toString(), "--threads", "1"));
        fuzzFile(regression, 200, SEED + 1, d -> List.of("grad", "--model", model.toString(), "--data", d.toString(),
                "--loss", "mse", "--out", g.toString(), "--threads", "1"));
        fuzzFile(labelled, 200, SEED + 2, d -> List.of("diagnose", "--model", model.toString(), "--data", d.toString(),
                "--loss", "softmax-ce"));
        fuzzFile(direction, 200, SEED + 3, v -> List.of("hvp", "--model", model.toString(), "--data", regression.toString(),
                "--loss", "mse", "--vector", v.toString(), "--out", out.resolve("hv.safetensors").toString(), "--threads", "1"));
        fuzzFile(csv, 300, SEED + 4, c -> List.of("eval", "--model", csvModel.toString(), "--data", c.toString()));
        fuzzFile(images, 150, SEED + 5, im -> List.of("eval", "--model", idxModel.toString(), "--data", im.toString(),
                "--idx-labels", labels.toString()));
        fuzzFile(labels, 150, SEED + 6, lb -> List.of("eval", "--model", idxModel.toString(), "--data", images.toString(),
                "--idx-labels", lb.toString()));
        assertTrue(System.nanoTime() - t0 < 60_000_000_000L, "the file fuzz must stay within a minute");
    }

    /** Values an adversarial user types where a number or a plan belongs. */
    private static final String[] HOSTILE = {"-1", "0", "", "abc", "NaN", "-0.5", "1e309", "-2147483648", "2147483648",
            "99999999999", "0x10", " ", "1.5", "\u00e9", "optimal:0", "budget:0", "binomial:-1", "uniform:2147483647",
            "budget:99999999999TiB", "full:", ":", ",,", "auto", "sqrt:3", "--help"};

    void fuzzCommandLines() throws IOException {
        long t0 = System.nanoTime();
        String g = out.resolve("g.safetensors").toString();
        List<List<String>> valid = List.of(
                List.of("grad", "--model", model.toString(), "--data", regression.toString(), "--loss", "mse", "--plan", "sqrt",
                        "--out", g, "--repeat", "1", "--warmup", "0", "--threads", "1"),
                List.of("hvp", "--model", model.toString(), "--data", regression.toString(), "--loss", "mse", "--vector",
                        direction.toString(), "--plan", "binomial:2", "--out", g, "--threads", "1"),
                List.of("plan", "--layers", "50", "--plan", "budget:4KiB", "--width", "4", "--batch", "8"),
                List.of("init", "--input", "3", "--layers", "3", "--width", "4", "--output", "2", "--out",
                        out.resolve("i.safetensors").toString(), "--data", out.resolve("id.safetensors").toString(), "--batch", "4"),
                List.of("train", "--samples", "40", "--blocks", "2", "--width", "4", "--epochs", "1", "--batch", "8",
                        "--dropout", "0.1", "--dropout-every", "1", "--lr", "0.01", "--held-out", "0.25", "--threads", "1",
                        "--no-progress"),
                List.of("eval", "--model", csvModel.toString(), "--data", csv.toString(), "--batch", "4"),
                List.of("diagnose", "--model", model.toString(), "--data", labelled.toString(), "--loss", "softmax-ce",
                        "--plan", "optimal:3"),
                List.of("demo", "--layers", "4", "--width", "4", "--batch", "4", "--plans", "full,sqrt", "--threads", "1"));
        Random r = new Random(SEED);
        int refused = 0;
        int runs = 0;
        for (int i = 0; i < 400; i++) {
            List<String> args = new ArrayList<>(valid.get(r.nextInt(valid.size())));
            int at = 1 + r.nextInt(args.size() - 1);
            switch (r.nextInt(4)) {
                case 0 -> { // a hostile value for an option
                    int value = args.get(at).startsWith("--") && at + 1 < args.size() ? at + 1 : at;
                    args.set(value, HOSTILE[r.nextInt(HOSTILE.length)]);
                }
                case 1 -> args.remove(at); // a missing option or value
                case 2 -> args.add(at, args.get(at)); // a repeated one
                default -> args.add(at, "--" + HOSTILE[r.nextInt(HOSTILE.length)]); // an unknown option
            }
            if (args.contains("--help")) {
                continue; // help is a valid request, not a refusal
            }
            Map<Path, byte[]> before = inputs();
            runs++;
            if (check(args, run(args), before)) {
                refused++;
            }
        }
        System.out.println("FuzzTest: command lines: " + refused + " of " + runs + " refused");
        assertTrue(refused >= runs * 3 / 4, "only " + refused + " of " + runs + " mutated command lines were refused");
        assertTrue(System.nanoTime() - t0 < 60_000_000_000L, "the command-line fuzz must stay within a minute");
    }

    void baseline() throws IOException {
        // The fuzz's baseline: without a mutation, each command succeeds (so refusals are the mutations' doing).
        Path g = out.resolve("g.safetensors");
        for (List<String> args : List.of(
                List.of("grad", "--model", model.toString(), "--data", regression.toString(), "--loss", "mse", "--out", g.toString()),
                List.of("diagnose", "--model", model.toString(), "--data", labelled.toString(), "--loss", "softmax-ce"),
                List.of("hvp", "--model", model.toString(), "--data", regression.toString(), "--loss", "mse", "--vector",
                        direction.toString(), "--out", out.resolve("hv.safetensors").toString()),
                List.of("eval", "--model", csvModel.toString(), "--data", csv.toString()),
                List.of("eval", "--model", idxModel.toString(), "--data", images.toString(), "--idx-labels", labels.toString()))) {
            Outcome r = run(args);
            if (r.code() != 0) {
                fail(String.join(" ", args) + ": " + r.err());
            }
        }
    }
}
