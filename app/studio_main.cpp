// respodiff-studio: the desktop app. Wires the compute runtime to the main window, which owns the
// background worker; with no --model it opens the last model used, else the embedded default.
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include "gpu/compute_device.h"
#include "ui/main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("RespoDiff Studio");
  QApplication::setOrganizationName("RespoDiff");
  QApplication::setApplicationVersion(RESPODIFF_VERSION);

  QCommandLineParser parser;
  parser.setApplicationDescription("Responsible text-to-image generation");
  parser.addHelpOption();
  parser.addVersionOption();
  QCommandLineOption exitAfter("exit-after-ms", "Close the window after N milliseconds (smoke tests).", "N");
  parser.addOption(exitAfter);
  QCommandLineOption model("model", "Start with this model (a diffusers folder or a .safetensors file).", "PATH");
  parser.addOption(model);
  parser.process(app);

  respo::ui::AppInfo info;
  info.version = RESPODIFF_VERSION;
  info.computeDevice = QString::fromStdString(respo::gpu::chooseDevice().description);
  if (parser.isSet(model)) info.initialModel = parser.value(model);
  respo::ui::MainWindow window(info);
  window.show();
  if (parser.isSet(exitAfter))
    QTimer::singleShot(parser.value(exitAfter).toInt(), &window, &QWidget::close);
  return app.exec();
}
