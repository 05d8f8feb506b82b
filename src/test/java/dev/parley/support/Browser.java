package dev.parley.support;

import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Headless Chromium from Debian's packages ({@code /usr/bin/chromium}, {@code /usr/bin/chromedriver}), driven by
 * Selenium; nothing is downloaded. Where they are missing the browser tests are skipped, loudly, unless
 * {@code PARLEY_REQUIRE_BROWSER=true} (CI sets it; or the system property {@code parley.requireBrowser}), when
 * they fail.
 */
public final class Browser {

  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  private Browser() {
  }

  public static boolean available() {
    boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    if (!present) {
      String message = "Chromium or ChromeDriver is missing (" + CHROMIUM + ", " + CHROMEDRIVER
        + "): install Debian's chromium and chromium-driver to run the browser tests";
      if (Boolean.getBoolean("parley.requireBrowser") || "true".equals(System.getenv("PARLEY_REQUIRE_BROWSER"))) {
        throw new AssertionError(message);
      }
      System.err.println("\n**********\n* SKIPPING THE BROWSER TESTS: " + message + "\n**********\n");
    }
    return present;
  }

  /** A fresh browser with a profile of its own, as a new visitor has. */
  public static ChromeDriver open(Path profile) {
    ChromeOptions options = new ChromeOptions()
      .setBinary(CHROMIUM.toFile())
      .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--window-size=1200,900", "--user-data-dir=" + profile);
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
      .usingAnyFreePort().build();
    options.setPageLoadTimeout(java.time.Duration.ofSeconds(30)).setScriptTimeout(java.time.Duration.ofSeconds(30));
    return new ChromeDriver(service, options);
  }

  /** Saves what the page shows to {@code target/screenshots/<name>.png}. */
  public static void screenshot(ChromeDriver driver, String name) {
    try {
      File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
      Path target = Path.of("target", "screenshots");
      Files.createDirectories(target);
      Files.copy(shot.toPath(), target.resolve(name + ".png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
