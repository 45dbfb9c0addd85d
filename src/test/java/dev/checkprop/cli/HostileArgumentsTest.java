package dev.checkprop.cli;

import dev.checkprop.io.ModelFile;
import dev.checkprop.io.SafeTensors;
import dev.checkprop.io.Tensor;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Network;
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
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Issue 13, cases 6 and 7: every message names the file, line or option, and arguments that used
 * to be accepted though wrong are refused. Each run must end with exit code 2, exactly one line, and
 * write nothing.
 */
class HostileArgumentsTest {

    @TempDir
    Path dir;

    private void refused(String expected, String... args) throws IOException {
        List<Path> before;
        try (Stream<Path> s = Files.list(dir)) {
            before = s.sorted().toList();
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(Main.EXIT_ERROR, code, out + "" + err);
        assertEquals("checkprop: " + expected + System.lineSeparator(), err.toString());
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(before, s.sorted().toList(), "a file was written");
        }
    }

    private Path csv(String name, String rows) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            sb.append("0.").append(i).append(",0.5,").append(i % 2).append('\n');
        }
        Path p = dir.resolve(name);
        Files.write(p, (sb + rows).getBytes(StandardCharsets.ISO_8859_1));
        return p;
    }

    @Test
    void csvLabelOfTwoBillionNamesTheLine() throws IOException {
        Path p = csv("big.csv", "0.3,0.4,2000000000\n");
        refused(p + " line 21: label 2000000000 would make 2000000001 classes, more than the 65536 supported;"
                + " labels must be 0..K-1", "train", "--data", p.toString(), "--blocks", "1", "--batch", "4");
    }

    @Test
    void oneStrayCsvLabelIsRefusedNotAWideOutputLayer() throws IOException {
        Path p = csv("stray.csv", "0.3,0.4,1000\n");
        refused(p + " line 21: label 1000 would make 1001 classes but only 3 of them occur in the data;"
                + " labels must be 0..K-1 with most classes present", "train", "--data", p.toString(), "--blocks", "1");
    }

    @Test
    void latin1CsvNamesTheLineAndByte() throws IOException {
        Path p = csv("latin.csv", "caf\u00e9,0.4,1\n");
        long offset = Files.size(p) - "\u00e9,0.4,1\n".length();
        refused(p + " line 21, byte " + offset + ": not valid UTF-8 (is the file Latin-1 or another encoding? convert it to UTF-8)",
                "train", "--data", p.toString(), "--blocks", "1");
    }

    @Test
    void idxLabelOfTwoBillionNamesTheOffset() throws IOException {
        ByteArrayOutputStream images = new ByteArrayOutputStream();
        DataOutputStream o = new DataOutputStream(images);
        o.writeInt(0x0803);
        o.writeInt(2);
        o.writeInt(1);
        o.writeInt(1);
        o.write(new byte[] {1, 2});
        ByteArrayOutputStream labels = new ByteArrayOutputStream();
        o = new DataOutputStream(labels);
        o.writeInt(0x0C01);
        o.writeInt(2);
        o.writeInt(0);
        o.writeInt(2_000_000_000);
        Path img = Files.write(dir.resolve("img.idx"), images.toByteArray());
        Path lab = Files.write(dir.resolve("lab.idx"), labels.toByteArray());
        refused(lab + " offset 12 (sample 1): label 2000000000 would make 2000000001 classes, more than the 65536 supported;"
                + " labels must be 0..K-1", "train", "--data", img.toString(), "--idx-labels", lab.toString(), "--blocks", "1");
    }

    @Test
    void anInputOutputErrorNamesTheFile() throws IOException {
        // Reading /proc/self/mem at offset 0 fails with EIO: a device error without a device.
        Path broken = Files.createSymbolicLink(dir.resolve("broken.csv"), Path.of("/proc/self/mem"));
        Path m = dir.resolve("m.safetensors");
        ModelFile.save(Network.builder(2).dense(2, Activation.IDENTITY).build(1), m);
        refused(broken + ": cannot read: Input/output error", "eval", "--model", m.toString(), "--data", broken.toString());
    }

    @Test
    void initWidthBeyondAnArrayNamesTheOptions() throws IOException {
        refused("--layers 3 --width 50000: a layer of 50000 x 50000 weights is 2500000000 elements, more than a Java array"
                        + " holds (2147483639)",
                "init", "--input", "2", "--layers", "3", "--width", "50000", "--output", "2", "--out", dir.resolve("m").toString());
    }

    @Test
    void dropoutOptionsOutOfRangeAreRefused() throws IOException {
        refused("--dropout-every must be >= 1, got 0", "train", "--dropout", "0.5", "--dropout-every", "0", "--samples", "64");
        refused("--dropout-every must be >= 1, got -1", "train", "--dropout", "0.5", "--dropout-every", "-1", "--samples", "64");
        refused("--dropout must be in [0, 1), got -0.5", "train", "--dropout", "-0.5", "--samples", "64");
        refused("--dropout must be in [0, 1), got NaN", "train", "--dropout", "NaN", "--samples", "64");
    }

    @Test
    void stepCountsBeyondAScheduleAndNegativeSamplesAreRefused() throws IOException {
        refused("--epochs 2147483647 of 800 steps is 1717986917600 steps, more than the 2147483647 a learning-rate"
                + " schedule counts", "train", "--epochs", "2147483647", "--samples", "1000", "--batch", "1", "--blocks", "1");
        refused("--samples must be >= 1, got -5", "train", "--samples", "-5");
    }

    @Test
    void planBudgetWithAnOverflowingActivationNamesTheOptions() throws IOException {
        refused("--width 2147483647 x --batch 2147483647: one activation is 4611686014132420609 elements, more than a Java"
                        + " array holds (2147483639)",
                "plan", "--layers", "10", "--width", "2147483647", "--batch", "2147483647", "--plan", "budget:1TiB");
    }

    @Test
    void dropoutWidthInMetadataMustBeAnInteger() throws IOException {
        Network net = Network.builder(8).dense(8, Activation.TANH).dropout(0.5f).dense(2, Activation.IDENTITY).build(1);
        SafeTensors st = ModelFile.toSafeTensors(net);
        SafeTensors.Builder b = SafeTensors.builder();
        for (Tensor t : st.tensors().values()) {
            b.put(t);
        }
        st.metadata().forEach((k, v) -> b.metadata(k, k.equals("layers.1.width") ? "8.9" : v));
        Path m = dir.resolve("m.safetensors");
        b.build().write(m);
        Path d = dir.resolve("d.csv");
        Files.writeString(d, "1,2,3,4,5,6,7,8,0\n1,2,3,4,5,6,7,8,1\n");
        refused(m + ": __metadata__ layers.1.width is not an integer: '8.9'", "eval", "--model", m.toString(), "--data", d.toString());
    }

    @Test
    void demoWithNoPlansIsRefused() throws IOException {
        refused("--plans names no plan (expected plans separated by commas, e.g. full,sqrt,binomial:8)",
                "demo", "--plans", ",,", "--layers", "2", "--width", "2", "--batch", "2");
    }

    @Test
    void initRefusesAModelItsOwnLossCannotUse() throws IOException {
        Path m = dir.resolve("m.safetensors");
        refused("--loss softmax-ce takes logits: --output-activation must be identity, not tanh (grad would refuse the model)",
                "init", "--input", "2", "--layers", "2", "--width", "3", "--output", "2", "--output-activation", "tanh",
                "--loss", "softmax-ce", "--out", m.toString(), "--data", dir.resolve("d.safetensors").toString());
        assertFalse(Files.exists(m));
    }
}
