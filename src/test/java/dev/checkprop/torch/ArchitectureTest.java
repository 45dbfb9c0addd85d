package dev.checkprop.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.checkprop.nn.Activation;
import dev.checkprop.torch.Architecture.Kind;
import dev.checkprop.torch.Architecture.Module;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The architecture grammar: module indices, defaults, repeats, the canonical form and every error. */
class ArchitectureTest {

    private static String kinds(Architecture a) {
        return a.modules().stream().map(Module::spec).collect(Collectors.joining(" "));
    }

    @Test
    void everyModuleTakesOneIndexOfTheSequential() {
        Architecture a = Architecture.parse("linear:tanh,linear:tanh,linear");
        assertEquals("linear tanh linear tanh linear", kinds(a));
        for (int i = 0; i < a.modules().size(); i++) {
            assertEquals(i, a.modules().get(i).index());
        }
        // The parameters are at 0, 2 and 4, as torch names them.
        assertEquals(List.of(0, 2, 4), a.modules().stream().filter(Module::hasParameters).map(Module::index).collect(Collectors.toList()));
        assertEquals(Activation.TANH, a.modules().get(1).activation());
        assertEquals("linear:tanh*2,linear", a.toString());
    }

    @Test
    void separateActivationsRepeatsDefaultsCaseAndSpaces() {
        assertEquals(Architecture.parse("linear:relu"), Architecture.parse(" Linear , ReLU "));
        Architecture a = Architecture.parse("layernorm, linear:sigmoid*3, dropout, dropout:0.25, layernorm:1e-6, identity, linear");
        assertEquals("layernorm linear sigmoid linear sigmoid linear sigmoid dropout:0.5 dropout:0.25 layernorm:1.0E-6 identity linear",
                kinds(a));
        assertEquals(1e-5f, a.modules().get(0).eps());
        assertEquals(1e-6f, a.modules().get(9).eps());
        assertEquals(0.5f, a.modules().get(7).rate());
        assertEquals(Kind.IDENTITY, a.modules().get(10).kind());
        assertEquals("layernorm,linear:sigmoid*3,dropout:0.5,dropout:0.25,layernorm:1.0E-6,identity,linear", a.toString());
        assertEquals(a, Architecture.parse(a.toString()));
        // linear:identity is a Linear alone.
        assertEquals(Architecture.parse("linear"), Architecture.parse("linear:identity"));
        assertEquals(2000, Architecture.parse("linear:tanh*999,linear,tanh").modules().size());
    }

    @Test
    void errorsNameTheItemAndWhatIsAccepted() {
        assertError("", "empty architecture");
        assertError("linear,,linear", "architecture item 2 is empty");
        assertError("linear,", "architecture item 2 is empty");
        assertError("linear,conv2d", "architecture item 2 'conv2d': unknown module 'conv2d' (expected linear[:ACTIVATION],"
                + " tanh, relu, sigmoid, gelu, identity, layernorm[:EPS] or dropout[:P], each optionally *COUNT)");
        assertError("linear:softmax", "architecture item 1 'linear:softmax': unknown activation 'softmax' after linear"
                + " (expected tanh, relu, sigmoid, gelu)");
        assertError("linear*0", "architecture item 1 'linear*0': the repeat count after '*' must be an integer >= 1, got '0'");
        assertError("linear*x", "the repeat count after '*' must be an integer >= 1, got 'x'");
        assertError("dropout:1", "architecture item 1 'dropout:1': dropout p must be in [0, 1), got 1");
        assertError("dropout:half", "p must be a number, got 'half'");
        assertError("layernorm:0", "layernorm eps must be a positive number below 1, got 0");
        assertError("layernorm:nan", "eps must be a number, got 'nan'");
        assertError("tanh:2", "tanh takes no ':' argument");
        assertError("linear*2000000,linear*9000000", "more than 10000000 modules");
    }

    @Test
    void geluIsTheLibrarysOrRefusedByName() {
        boolean has = false;
        for (Activation a : Activation.values()) {
            has |= a.fileName().equals("gelu");
        }
        if (has) {
            assertEquals("gelu", Architecture.parse("linear:gelu").modules().get(1).activation().fileName());
            assertEquals("gelu", Architecture.parse("linear,gelu").modules().get(1).spec());
        } else {
            assertError("linear:gelu", "architecture item 1 'linear:gelu': gelu is not supported by this version of checkprop");
            assertError("linear,gelu", "architecture item 2 'gelu': gelu is not supported by this version of checkprop");
        }
    }

    private static void assertError(String arch, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Architecture.parse(arch));
        assertTrue(e.getMessage().contains(expected), () -> "'" + expected + "' missing from: " + e.getMessage());
    }
}
