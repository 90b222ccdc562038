// respodiff-studio: the desktop app. Wires the compute runtime to the main window, which owns the
// background worker; with no --model it opens the last model used, else the embedded default.
// --prompt, --concept and --generate start a generation as soon as the model is ready, and
// --screenshot saves a picture of the window after it (the docs' screenshots are made this way).
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <cstdio>

#include "gpu/compute_device.h"
#include "gpu/engine.h"
#ifdef RESPODIFF_WITH_TOYWORLD
#include "core/toyworld/report_extension.h"
#endif
#include "ui/concept_panel.h"
#include "ui/main_window.h"
#include "ui/parameter_form.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("RespoDiff Studio");
  QApplication::setOrganizationName("RespoDiff");
  QApplication::setApplicationVersion(RESPODIFF_VERSION);
  QGuiApplication::setDesktopFileName("org.respodiff.Studio");  // the Wayland app id names the desktop entry

  QCommandLineParser parser;
  parser.setApplicationDescription("Responsible text-to-image generation");
  parser.addHelpOption();
  parser.addVersionOption();
  QCommandLineOption exitAfter("exit-after-ms", "Close the window after N milliseconds (smoke tests).", "N");
  QCommandLineOption model("model", "Start with this model (a diffusers folder or a .safetensors file).", "PATH");
  QCommandLineOption prompt("prompt", "Start with this prompt.", "TEXT");
  QCommandLineOption seed("seed", "Start with this seed (locked).", "N");
  QCommandLineOption conceptOption("concept", "Switch this concept module on, by name (repeatable).", "NAME");
  QCommandLineOption generate("generate", "Generate as soon as the model is loaded.");
  QCommandLineOption screenshot("screenshot", "Generate, save a picture of the window to FILE, and quit.", "FILE");
  QCommandLineOption output("output-folder", "Save generations into DIR (this run only).", "DIR");
  for (const auto* option : {&exitAfter, &model, &prompt, &seed, &conceptOption, &generate, &screenshot, &output})
    parser.addOption(*option);
  parser.addPositionalArgument("picture", "A PNG saved by RespoDiff Studio or another front end: restore its prompt "
                                           "and settings (what \"Open with\" passes).", "[picture.png]");
  parser.process(app);
  if (parser.positionalArguments().size() > 1) {
    std::fprintf(stderr, "respodiff-studio: one picture at most\n");
    return 2;
  }

  respo::ui::AppInfo info;
  info.version = RESPODIFF_VERSION;
  info.computeDevice = QString::fromStdString(respo::gpu::chooseDevice().description);
  if (parser.isSet(model)) info.initialModel = parser.value(model);
  if (parser.isSet(output)) info.outputFolder = parser.value(output);
  // The engine: the generation service, with the toy world's report reader for the embedded model.
  std::vector<respo::report::ReportExtension> extensions;
#ifdef RESPODIFF_WITH_TOYWORLD
  extensions.push_back(respo::toyworld::reportExtension());
#endif
  respo::ui::MainWindow window(info, respo::gpu::makeServiceEngine({}, std::move(extensions)));
  window.show();
  if (parser.isSet(exitAfter))
    QTimer::singleShot(parser.value(exitAfter).toInt(), &window, &QWidget::close);

  int status = 0;
  QObject::connect(&window, &respo::ui::MainWindow::modelReady, &window, [&] {
    auto* form = window.parameterForm();
    if (!parser.positionalArguments().isEmpty() && !window.restoreFromFile(parser.positionalArguments().front()))
      status = 1;  // the window says why
    if (parser.isSet(prompt)) form->setPrompt(parser.value(prompt));
    if (parser.isSet(seed)) form->setSeed(parser.value(seed).toInt());
    for (const auto& name : parser.values(conceptOption))
      if (!window.conceptPanel()->setConceptEnabled(name, true))
        std::fprintf(stderr, "no usable concept module is called '%s'\n", qPrintable(name));
    if (parser.isSet(generate) || parser.isSet(screenshot)) window.generate();
  }, Qt::SingleShotConnection);
  if (parser.isSet(screenshot)) {
    QObject::connect(&window, &respo::ui::MainWindow::resultShown, &window, [&] {
      // Let the window paint the result before grabbing it.
      QTimer::singleShot(200, &window, [&] {
        if (!window.grab().save(parser.value(screenshot))) {
          std::fprintf(stderr, "cannot write %s\n", qPrintable(parser.value(screenshot)));
          status = 1;
        }
        window.close();
      });
    });
    QObject::connect(&window, &respo::ui::MainWindow::errorShown, &window, [&](const QString& title, const QString& message) {
      std::fprintf(stderr, "%s: %s\n", qPrintable(title), qPrintable(message));
      status = 1;
      window.close();
    });
  }
  const int code = app.exec();
  return code != 0 ? code : status;
}
