// render_icon: renders an SVG drawing to a square PNG, for the hicolor icon theme sizes.
//
//   render_icon IN.svg SIZE OUT.png
//
// A drawing that is not square keeps its aspect ratio and is centred on a transparent square.
// Needs no display: unless QT_QPA_PLATFORM says otherwise it runs on the offscreen platform.
// Uses QtGui and QtSvg only.
#include <QFileInfo>
#include <QGuiApplication>
#include <QImage>
#include <QPainter>
#include <QSvgRenderer>
#include <cstdio>

namespace {

int fail(const QString& message, int code = 1) {
  std::fprintf(stderr, "render_icon: %s\n", qPrintable(message));
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QGuiApplication app(argc, argv);
  const QStringList args = QGuiApplication::arguments();
  if (args.size() != 4)
    return fail(QStringLiteral("usage: render_icon IN.svg SIZE OUT.png"), 2);
  const QString input = args.at(1);
  const QString output = args.at(3);

  bool ok = false;
  const int size = args.at(2).toInt(&ok);
  if (!ok || size < 1 || size > 16384)
    return fail(QStringLiteral("SIZE must be a whole number of pixels from 1 to 16384, not '%1'").arg(args.at(2)), 2);

  if (!QFileInfo(input).isFile()) return fail(QStringLiteral("cannot read %1").arg(input));
  QSvgRenderer renderer(input);
  if (!renderer.isValid()) return fail(QStringLiteral("%1 is not a valid SVG drawing").arg(input));

  QSizeF drawing = renderer.viewBoxF().size();
  if (drawing.isEmpty()) drawing = renderer.defaultSize();
  if (drawing.isEmpty()) return fail(QStringLiteral("%1 has no size (no viewBox, width or height)").arg(input));
  const QSizeF fitted = drawing.scaled(size, size, Qt::KeepAspectRatio);
  const QRectF target((size - fitted.width()) / 2.0, (size - fitted.height()) / 2.0, fitted.width(), fitted.height());

  QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
  if (image.isNull()) return fail(QStringLiteral("cannot allocate a %1x%1 image").arg(size));
  image.fill(Qt::transparent);
  {
    QPainter painter(&image);
    painter.setRenderHints(QPainter::Antialiasing | QPainter::SmoothPixmapTransform);
    renderer.render(&painter, target);
  }
  if (!image.convertToFormat(QImage::Format_ARGB32).save(output, "PNG"))
    return fail(QStringLiteral("cannot write %1").arg(output));
  return 0;
}
