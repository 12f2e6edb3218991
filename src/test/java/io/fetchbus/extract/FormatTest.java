package io.fetchbus.extract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import java.util.EnumSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class FormatTest {

  @Test
  @DisplayName("without formats only metadata is extracted")
  void defaultIsMetadata() {
    assertThat(Format.parse(null)).containsExactly(Format.METADATA);
  }

  @Test
  @DisplayName("every format is known by its lower-case name")
  void knownNames() {
    assertThat(Format.parse(new JsonArray().add("html").add("text").add("markdown").add("links").add("metadata")))
        .isEqualTo(EnumSet.allOf(Format.class));
    assertThat(Format.parse(new JsonArray())).isEmpty();
  }

  @Test
  @DisplayName("an unknown format name is a 400 that names it")
  void unknownName() {
    ReplyException e = catchThrowableOfType(ReplyException.class, () -> Format.parse(new JsonArray().add("text").add("pdf")));
    assertThat(e.failureCode()).isEqualTo(400);
    assertThat(e.getMessage()).isEqualTo("formats: unknown format 'pdf'; use html, text, markdown, links or metadata");
  }

  @Test
  @DisplayName("a comma-separated list (from a query string) is read; a value of another type is a 400")
  void otherShapes() {
    assertThat(Format.parse("text,links")).containsExactly(Format.TEXT, Format.LINKS);
    assertThat(catchThrowableOfType(ReplyException.class, () -> Format.parse(new JsonArray().add(3))).failureCode()).isEqualTo(400);
    assertThat(catchThrowableOfType(ReplyException.class, () -> Format.parse(42)).failureCode()).isEqualTo(400);
  }
}
