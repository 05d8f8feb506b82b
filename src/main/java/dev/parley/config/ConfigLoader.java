package dev.parley.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Reads the configuration through vertx-config, lowest priority first: {@code conf/config.json} (or the file
 * named by {@code PARLEY_CONFIG}; a missing file falls back to the copy inside the jar), then the environment
 * variables of {@link ParleyConfig#KEYS}, then the overrides given by code (tests, embedding applications).
 */
public final class ConfigLoader {

  public static final String CONFIG_FILE_VARIABLE = "PARLEY_CONFIG";
  public static final String DEFAULT_CONFIG_FILE = "conf/config.json";

  private ConfigLoader() {
  }

  public static Future<ParleyConfig> load(Vertx vertx, JsonObject overrides) {
    return load(vertx, System.getenv().getOrDefault(CONFIG_FILE_VARIABLE, DEFAULT_CONFIG_FILE), overrides);
  }

  /** Reads {@code file} (a path, or a resource in the jar) instead of the default one. */
  public static Future<ParleyConfig> load(Vertx vertx, String file, JsonObject overrides) {
    ConfigRetrieverOptions options = new ConfigRetrieverOptions()
      .setIncludeDefaultStores(false)
      .addStore(new ConfigStoreOptions().setType("file").setFormat("json")
        .setConfig(new JsonObject().put("path", file)))
      .addStore(new ConfigStoreOptions().setType("env")
        .setConfig(new JsonObject().put("keys", new JsonArray(ParleyConfig.KEYS)).put("raw-data", true)))
      .addStore(new ConfigStoreOptions().setType("json").setConfig(overrides.copy()));
    ConfigRetriever retriever = ConfigRetriever.create(vertx, options);
    return retriever.getConfig()
      .andThen(done -> retriever.close())
      .recover(failure -> Future.failedFuture(new ConfigException(CONFIG_FILE_VARIABLE,
        "cannot read " + file + ": " + failure.getMessage())))
      .compose(json -> {
        try {
          return Future.succeededFuture(ParleyConfig.fromJson(json));
        } catch (ConfigException e) {
          return Future.failedFuture(e);
        }
      });
  }
}
