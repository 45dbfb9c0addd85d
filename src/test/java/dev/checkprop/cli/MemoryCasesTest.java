package dev.checkprop.cli;

import dev.checkprop.io.ModelFile;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.checkprop.cli.ChildJvm.refused;

/**
 * Issue 13, case 2: each run that used to end in an {@code OutOfMemoryError} with a stack trace, in a
 * child JVM with the heap the issue names, now ends with one line giving the figures, exit code 2,
 * and every file as it was.
 */
class MemoryCasesTest {

    @TempDir
    Path dir;

    /** A header of {@code keys} metadata entries {@code "k0":""}, and nothing else. */
    private Path header(String name, int keys) throws IOException {
        Path p = dir.resolve(name);
        StringBuilder sb = new StringBuilder(keys * 14).append("{\"__metadata__\":{");
        for (int i = 0; i < keys; i++) {
            sb.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"\"");
        }
        byte[] json = sb.append("}}").toString().getBytes(StandardCharsets.UTF_8);
        try (OutputStream out = Files.newOutputStream(p)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
            out.write(json);
        }
        return p;
    }

    private Path data(int n, int width, int outputs) throws IOException {
        Path p = dir.resolve("d" + n + "x" + width + ".safetensors");
        ModelFile.saveData(Batch.regression(new float[n * width], width, new float[n * outputs], outputs), p);
        return p;
    }

    @Test
    void hugeHeadersAreRefusedByBytesAndByEntries() throws Exception {
        Path d = data(4, 4, 2);
        Path big = header("keys4m.safetensors", 4_000_000);
        long n = Files.size(big) - 8;
        refused(dir, "256m", big + ": header length " + n + " (file offset 0) exceeds the 22649243 bytes this JVM's heap"
                        + " can parse (-Xmx 256.0 MiB; the format allows 100000000)",
                "grad", "--model", big.toString(), "--data", d.toString(), "--loss", "mse", "--out", dir.resolve("g").toString());
        Path many = header("keys1m.safetensors", 1_000_000);
        refused(dir, "256m", many + ": the header has more than 353894 entries (tensors and metadata), more than this JVM's"
                        + " heap (-Xmx 256.0 MiB) can hold while parsing (at file offset 4489537)",
                "grad", "--model", many.toString(), "--data", d.toString(), "--loss", "mse", "--out", dir.resolve("g").toString());
    }

    @Test
    void aModelLargerThanTheHeapNamesBothSizes() throws Exception {
        // 26 MB of weights: 100 layers of 256 x 256.
        Network net = Network.builder(64).dense(99, 256, Activation.TANH).dense(10, Activation.IDENTITY).build(1);
        Path m = dir.resolve("m.safetensors");
        ModelFile.save(net, m);
        Path d = data(4, 64, 10);
        long tensors = 4 * net.parameterCount();
        // The reader's own check: before any tensor is allocated.
        refused(dir, "64m", m + ": its " + tensors + " bytes of tensors need 24.7 MiB of heap but this JVM can give 19.2 MiB"
                        + " (-Xmx 64.0 MiB less a 20% + 32 MiB margin); give a larger -Xmx",
                "eval", "--model", m.toString(), "--task", "spirals", "--samples", "10");
        // grad's, of all its inputs together, before the first is read.
        refused(dir, "64m", "--model " + m + " (24.7 MiB) and --data " + d + " (1.3 KiB) need 24.7 MiB of heap but this JVM"
                        + " can give 19.2 MiB (-Xmx 64.0 MiB less a 20% + 32 MiB margin); give a larger -Xmx",
                "grad", "--model", m.toString(), "--data", d.toString(), "--loss", "mse", "--out", dir.resolve("g").toString());
    }

    @Test
    void trainingThatCannotFitIsRefusedBeforeTheNetworkOrDataExist() throws Exception {
        refused(dir, "256m", "--blocks 2000 --width 256: 131585282 parameters, 4 copies (weights, gradients, optimizer state)"
                        + " need 2.0 GiB of heap but this JVM can give 172.8 MiB (-Xmx 256.0 MiB less a 20% + 32 MiB margin);"
                        + " make the problem smaller or give a larger -Xmx",
                "train", "--blocks", "2000", "--width", "256", "--save", dir.resolve("m").toString());
        refused(dir, "128m", "--samples 5000000: 5000000 samples of 3 values, 3 copies need 171.7 MiB of heap but this JVM"
                        + " can give 70.4 MiB (-Xmx 128.0 MiB less a 20% + 32 MiB margin); make the problem smaller or give a"
                        + " larger -Xmx",
                "train", "--samples", "5000000");
    }

    @Test
    void hvpAndDiagnoseCheckTheirPlanAgainstTheHeap() throws Exception {
        Network net = Network.builder(64).dense(512, 64, Activation.TANH).build(2);
        Path m = dir.resolve("m.safetensors");
        ModelFile.save(net, m);
        Path d = data(1280, 64, 64);
        refused(dir, "256m", "hvp with plan full: parameters, direction, gradient, product, the plan's (a, R{a}) states"
                        + " and workspace need 355.1 MiB of heap but this JVM can give 172.8 MiB (-Xmx 256.0 MiB less a 20% +"
                        + " 32 MiB margin); use a plan that keeps fewer states (sqrt, binomial:S, budget:BYTES) or a larger -Xmx",
                "hvp", "--model", m.toString(), "--data", d.toString(), "--loss", "mse", "--vector", m.toString(),
                "--plan", "full", "--out", dir.resolve("hv").toString());
        refused(dir, "256m", "plan full needs 178.2 MiB of heap (activations 160.0 MiB, parameters and gradients 16.3 MiB)"
                        + " but this JVM can give 172.8 MiB (-Xmx 256.0 MiB less a 20% + 32 MiB margin); use --plan auto,"
                        + " a budget:BYTES plan, or a larger -Xmx",
                "diagnose", "--model", m.toString(), "--data", d.toString(), "--loss", "mse", "--plan", "full");
    }

    @Test
    void plansLargerThanTheHeapAreRefusedBeforeTheyAreBuilt() throws Exception {
        refused(dir, "256m", "optimal:2 cannot serve 20000 layers: the plan would need 200009998 forward evaluations"
                        + " (400039997 actions) but this JVM can hold plans of up to 5662310 actions (-Xmx 256.0 MiB);"
                        + " use more buffers (optimal:M with a larger M) or a larger -Xmx",
                "plan", "--layers", "20000", "--plan", "optimal:2");
        refused(dir, "256m", "binomial:1 cannot serve 40000 layers: the plan would need 800020000 forward evaluations"
                        + " (1600080001 actions) but this JVM can hold plans of up to 5662310 actions (-Xmx 256.0 MiB);"
                        + " use more snapshots (binomial:S with a larger S) or a larger -Xmx",
                "plan", "--layers", "40000", "--plan", "binomial:1");
        refused(dir, "256m", "sqrt cannot serve 500000000 layers: the plan would need 999977639 forward evaluations"
                        + " (2499955279 actions) but this JVM can hold plans of up to 5662310 actions (-Xmx 256.0 MiB);"
                        + " use a larger -Xmx (or fewer layers)",
                "plan", "--layers", "500000000", "--plan", "sqrt");
        refused(dir, "256m", "optimal:16 cannot serve 1000000 layers in this JVM: its tables would need 259.4 MiB (17000017"
                        + " entries) but planning may use 86.4 MiB (-Xmx 256.0 MiB); use binomial:16, which needs no tables,"
                        + " or a larger -Xmx",
                "plan", "--layers", "1000000", "--plan", "optimal:16");
    }

    @Test
    void demoAndBudgetPlanningCheckTheHeapFirst() throws Exception {
        refused(dir, "256m", "--layers 100000 --width 512: 26265600000 parameters, 3 copies (weights, gradients, optimizer"
                        + " state) need 293.6 GiB of heap but this JVM can give 172.8 MiB (-Xmx 256.0 MiB less a 20% + 32 MiB"
                        + " margin); make the problem smaller or give a larger -Xmx",
                "demo", "--layers", "100000", "--width", "512", "--batch", "512");
        refused(dir, "256m", "--layers 2000000000: the chain of sizes and costs need 29.8 GiB of heap but this JVM can give"
                        + " 172.8 MiB (-Xmx 256.0 MiB less a 20% + 32 MiB margin); make the problem smaller or give a larger -Xmx",
                "plan", "--layers", "2000000000", "--plan", "budget:1GiB", "--width", "4", "--batch", "4");
    }

    @Test
    void trainingSplitIntoMicroBatchesDiagnosesOneSlice() throws Exception {
        // A 10^6-wide layer: auto must split the batch of 10, and the epoch's diagnosis must use a slice
        // (it used to pass the whole batch to the micro-batch executor and fail).
        ChildJvm.Result r = ChildJvm.run("256m", "train", "--width", "1000000", "--blocks", "0", "--samples", "100",
                "--batch", "10", "--epochs", "1", "--no-progress");
        org.junit.jupiter.api.Assertions.assertEquals(0, r.code(), r.out() + r.err());
        org.junit.jupiter.api.Assertions.assertTrue(r.out().contains("micro-batches"), r.out());
    }

    @Test
    void aRepeatCountBeyondTheLimitIsRefusedBeforeLoading() throws Exception {
        Path m = dir.resolve("m.safetensors");
        ModelFile.save(Network.builder(4).dense(2, Activation.IDENTITY).build(1), m);
        refused(dir, "64m", "--repeat must be between 1 and 100000, got 2147483647", "grad", "--model", m.toString(),
                "--data", data(4, 4, 2).toString(), "--loss", "mse", "--out", dir.resolve("g").toString(),
                "--repeat", "2147483647");
    }
}
