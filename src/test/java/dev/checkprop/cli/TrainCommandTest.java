package dev.checkprop.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.checkprop.data.Dataset;
import dev.checkprop.data.Synthetic;
import dev.checkprop.io.ModelFile;
import dev.checkprop.io.SafeTensors;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Network;
import dev.checkprop.train.Training;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** train on model files and checkpoints, eval agreeing with train, predict, the report's history and the plot. */
class TrainCommandTest {

    @TempDir
    Path dir;

    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String[] TASK = {"train", "--task", "spirals", "--samples", "600", "--batch", "32", "--threads", "2",
            "--lr", "3e-3", "--plan", "sqrt"};

    private static CliTest.Result run(String... args) {
        return CliTest.run(args);
    }

    private static String[] with(String[] base, String... more) {
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    private String p(String name) {
        return dir.resolve(name).toString();
    }

    private static List<String> history(JsonNode report) {
        List<String> rows = new ArrayList<>();
        for (JsonNode e : report.get("history")) {
            rows.add(e.get("epoch") + " " + e.get("step") + " " + e.get("train_loss") + " " + e.get("held_out_loss") + " "
                    + e.get("held_out_accuracy"));
        }
        return rows;
    }

    /**
     * Four epochs straight, against two epochs checkpointed and then resumed for two more: the saved
     * models are the same bytes and the reports the same history. The report has one row per epoch.
     */
    @Test
    void resumeIsBitIdenticalAndTheReportHasTheHistory() throws IOException {
        String[] net = {"--blocks", "4", "--width", "16", "--dropout", "0.1", "--dropout-every", "2"};
        CliTest.Result straight = run(with(with(TASK, net), "--epochs", "4", "--save", p("straight.safetensors"),
                "--report", p("straight.json")));
        assertEquals(0, straight.code(), straight.err());
        CliTest.Result first = run(with(with(TASK, net), "--epochs", "2", "--checkpoint", p("run.ckpt")));
        assertEquals(0, first.code(), first.err());
        assertTrue(Files.exists(dir.resolve("run.ckpt")));
        CliTest.Result resumed = run(with(TASK, "--epochs", "4", "--resume", p("run.ckpt"), "--save", p("resumed.safetensors"),
                "--report", p("resumed.json"), "--checkpoint", p("run.ckpt")));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("resumed from " + p("run.ckpt") + " at step 30"), resumed.out());
        assertFalse(resumed.out().contains("epoch   1 "), resumed.out());
        assertTrue(resumed.out().contains("epoch   3 "), resumed.out());
        assertArrayEquals(Files.readAllBytes(dir.resolve("straight.safetensors")), Files.readAllBytes(dir.resolve("resumed.safetensors")));
        JsonNode a = JSON.readTree(dir.resolve("straight.json").toFile());
        JsonNode b = JSON.readTree(dir.resolve("resumed.json").toFile());
        assertEquals(4, a.get("history").size());
        assertEquals(history(a), history(b));
        assertEquals(a.get("held_out_accuracy"), b.get("held_out_accuracy"));
        assertEquals(30, b.get("resumed_from_step").asInt());

        // A different run is refused, naming the difference.
        CliTest.Result other = run(with(TASK, "--epochs", "4", "--resume", p("run.ckpt"), "--seed", "2"));
        assertEquals(Main.EXIT_ERROR, other.code());
        assertTrue(other.err().contains("seed 2 (checkpoint: 1)"), other.err());
        CliTest.Result shaped = run(with(TASK, "--resume", p("run.ckpt"), "--blocks", "3"));
        assertEquals(Main.EXIT_ERROR, shaped.code());
        assertTrue(shaped.err().contains("--blocks shapes a new network"), shaped.err());
    }

    /**
     * The documented workflow: train on a task and save; eval of the model on the same task reproduces
     * train's held-out loss and accuracy exactly (same generator, same split). Then train trains the
     * model file further, and predict writes its outputs.
     */
    @Test
    void evalReproducesTrainsHeldOutFigureAndModelFilesTrain() throws IOException {
        CliTest.Result train = run(with(TASK, "--blocks", "4", "--width", "16", "--epochs", "3", "--turns", "2",
                "--save", p("m.safetensors"), "--report", p("train.json"), "--plot", p("curves.png")));
        assertEquals(0, train.code(), train.err());
        CliTest.Result eval = run("eval", "--model", p("m.safetensors"), "--task", "spirals", "--samples", "600", "--turns", "2",
                "--report", p("eval.json"));
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().startsWith("120 samples (held-out split of --task spirals)"), eval.out());
        JsonNode t = JSON.readTree(dir.resolve("train.json").toFile());
        JsonNode e = JSON.readTree(dir.resolve("eval.json").toFile());
        assertEquals(t.get("held_out_accuracy").asDouble(), e.get("accuracy").asDouble());
        assertEquals(t.get("held_out_loss").asDouble(), e.get("loss").asDouble());
        CliTest.Result trainPart = run("eval", "--model", p("m.safetensors"), "--task", "spirals", "--samples", "600",
                "--turns", "2", "--split", "train", "--report", p("evaltrain.json"));
        assertEquals(0, trainPart.code(), trainPart.err());
        assertEquals(t.get("train_accuracy").asDouble(), JSON.readTree(dir.resolve("evaltrain.json").toFile()).get("accuracy").asDouble());

        BufferedImage png = ImageIO.read(dir.resolve("curves.png").toFile());
        assertNotNull(png);
        assertEquals(1600, png.getWidth());

        // The saved model trains on (fine-tuning), from its own weights.
        CliTest.Result more = run(with(TASK, "--model", p("m.safetensors"), "--turns", "2", "--epochs", "1",
                "--save", p("m2.safetensors")));
        assertEquals(0, more.code(), more.err());
        assertTrue(more.out().contains("(from " + p("m.safetensors") + ")"), more.out());
        CliTest.Result refused = run(with(TASK, "--model", p("m.safetensors"), "--width", "8"));
        assertEquals(Main.EXIT_ERROR, refused.code());
        assertTrue(refused.err().contains("--width shapes a new network"), refused.err());

        // predict: the model's outputs for x, as Training.predict gives them, and their argmax.
        Dataset spirals = Synthetic.spirals(50, 2, 0.02, 4);
        Batch b = spirals.toBatch();
        ModelFile.saveData(b, dir.resolve("x.safetensors"));
        CliTest.Result predict = run("predict", "--model", p("m2.safetensors"), "--data", p("x.safetensors"),
                "--out", p("p.safetensors"), "--argmax");
        assertEquals(0, predict.code(), predict.err());
        SafeTensors out = SafeTensors.read(dir.resolve("p.safetensors"));
        Network m2 = ModelFile.load(dir.resolve("m2.safetensors"));
        try (Training tr = Training.of(m2).threads(1)) {
            assertArrayEquals(tr.predict(b.inputs()), out.tensor("outputs").toFloatArray());
            assertArrayEquals(tr.classify(b.inputs()), out.tensor("classes").labelsAsInts());
        }
        assertArrayEquals(new long[] {50, 2}, out.tensor("outputs").shape());
    }

    /** Dead layers: one line per epoch, a count and at most eight layer numbers. */
    @Test
    void deadLayersAreACountAndAShortList() {
        Network net = Network.builder(2).dense(4, Activation.RELU).residual(20, Activation.RELU).dense(2, Activation.IDENTITY)
                .build(1);
        List<Integer> dead = new ArrayList<>();
        for (int l = 2; l <= 13; l++) {
            dead.add(l);
        }
        String line = TrainCommand.deadLayers(dead, net);
        assertEquals("warning: 12 dead layers (f' = 0 for every unit on the epoch's last batch; 12 residual, which pass the"
                + " gradient on through their skip connection): 2, 3, 4, 5, 6, 7, 8, 9 and 4 more", line);
        assertEquals(1, line.lines().count());
    }
}
