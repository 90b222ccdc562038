#include "ui/comparison_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>
#include <QSlider>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <functional>
#include <cstdlib>

namespace respo::ui {

// Paints the two images; all state lives here, the view only wires controls to it.
class ComparisonCanvas : public QWidget {
 public:
  explicit ComparisonCanvas(QWidget* parent) : QWidget(parent) {
    setObjectName("comparisonCanvas");
    setMinimumSize(256, 160);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  }

  QImage baseline, responsible, difference;
  ComparisonView::Mode mode = ComparisonView::Mode::SideBySide;
  bool showDifference = false;
  int wipePercent = 50;
  double zoom = 0;  // 0: fit
  QPointF pan;      // offset of the zoomed images from the centre, in screen pixels
  std::function<void(double)> onZoomChanged;

  // The scale the images are shown at now (the fitted one when zoom is 0).
  double effectiveScale() const {
    if (zoom > 0) return zoom;
    const QImage& image = baseline.isNull() ? responsible : baseline;
    if (image.isNull()) return 1;
    const QRect area = mode == ComparisonView::Mode::SideBySide ? QRect(0, 0, (width() - 8) / 2, height() - 18) : rect();
    return std::min(area.width() / double(image.width()), area.height() / double(image.height()));
  }
  void setZoom(double z) {
    z = z <= 0 ? 0 : std::clamp(z, 0.125, 32.0);
    if (z == 0) pan = {};
    if (z == zoom) return;
    zoom = z;
    update();
    if (onZoomChanged) onZoomChanged(zoom);
  }

 protected:
  void paintEvent(QPaintEvent*) override {
    QPainter p(this);
    p.fillRect(rect(), palette().window());
    const QImage& right = showDifference && !difference.isNull() ? difference : responsible;
    if (baseline.isNull() && right.isNull()) {
      p.setPen(palette().color(QPalette::PlaceholderText));
      p.drawText(rect(), Qt::AlignCenter, tr("Baseline and responsible images appear here"));
      return;
    }
    if (mode == ComparisonView::Mode::SideBySide) {
      const int gap = 8, half = (width() - gap) / 2;
      drawPlaced(p, QRect(0, 0, half, height() - 18), baseline);
      drawPlaced(p, QRect(half + gap, 0, half, height() - 18), right);
      p.setPen(palette().color(QPalette::WindowText));
      p.drawText(QRect(0, height() - 16, half, 16), Qt::AlignCenter, tr("Baseline"));
      p.drawText(QRect(half + gap, height() - 16, half, 16), Qt::AlignCenter,
                 showDifference ? tr("Difference") : tr("Responsible"));
      return;
    }
    // Wipe: one frame, the baseline left of the line and the responsible image right of it.
    const QRect frame = placedRect(rect(), baseline.isNull() ? right.size() : baseline.size());
    const int split = frame.left() + frame.width() * wipePercent / 100;
    p.save();
    p.setClipRect(QRect(frame.topLeft(), QPoint(split, frame.bottom())));
    drawInto(p, frame, baseline);
    p.setClipRect(QRect(QPoint(split, frame.top()), frame.bottomRight()));
    drawInto(p, frame, right);
    p.restore();
    p.setPen(QPen(Qt::white, 2));
    p.drawLine(split, frame.top(), split, frame.bottom());
  }

  void wheelEvent(QWheelEvent* event) override {
    if (!(event->modifiers() & Qt::ControlModifier) || event->angleDelta().y() == 0) return QWidget::wheelEvent(event);
    // Whole zoom steps (powers of two) so pixels stay square and crisp.
    const double now = effectiveScale();
    const double step = std::pow(2.0, event->angleDelta().y() > 0 ? std::floor(std::log2(now) + 1e-9) + 1
                                                                  : std::ceil(std::log2(now) - 1e-9) - 1);
    pan *= step / now;
    setZoom(step);
    event->accept();
  }
  void mousePressEvent(QMouseEvent* event) override {
    dragFrom_ = event->position();
    QWidget::mousePressEvent(event);
  }
  void mouseMoveEvent(QMouseEvent* event) override {
    if (zoom > 0 && (event->buttons() & Qt::LeftButton) && mode == ComparisonView::Mode::SideBySide) {
      pan += event->position() - dragFrom_;
      dragFrom_ = event->position();
      update();
    }
    QWidget::mouseMoveEvent(event);
  }
  void mouseDoubleClickEvent(QMouseEvent*) override { setZoom(0); }

 private:
  static QRect fittedRect(const QRect& area, QSize size) {
    if (size.isEmpty()) return area;
    size.scale(area.size(), Qt::KeepAspectRatio);
    return QRect(area.left() + (area.width() - size.width()) / 2, area.top() + (area.height() - size.height()) / 2,
                 size.width(), size.height());
  }
  static void drawInto(QPainter& p, const QRect& target, const QImage& image) {
    if (image.isNull()) return;
    // Small toy-model images stay crisp when enlarged; large ones are smoothed.
    p.setRenderHint(QPainter::SmoothPixmapTransform, target.width() < image.width() * 2);
    p.drawImage(target, image);
  }
  // Fitted, or at the zoom around the area's centre moved by the pan.
  QRect placedRect(const QRect& area, QSize size) const {
    if (zoom <= 0 || size.isEmpty()) return fittedRect(area, size);
    const QSize zoomed(static_cast<int>(std::lround(size.width() * zoom)), static_cast<int>(std::lround(size.height() * zoom)));
    const QPointF centre = QRectF(area).center() + pan;
    return QRect(static_cast<int>(std::lround(centre.x() - zoomed.width() / 2.0)),
                 static_cast<int>(std::lround(centre.y() - zoomed.height() / 2.0)), zoomed.width(), zoomed.height());
  }
  void drawPlaced(QPainter& p, const QRect& area, const QImage& image) const {
    if (image.isNull()) return;
    p.save();
    p.setClipRect(area);
    drawInto(p, placedRect(area, image.size()), image);
    p.restore();
  }
  QPointF dragFrom_;
};

ComparisonView::ComparisonView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  canvas_ = new ComparisonCanvas(this);
  layout->addWidget(canvas_, 1);

  auto* controls = new QHBoxLayout;
  mode_ = new QComboBox(this);
  mode_->setObjectName("comparisonModeCombo");
  mode_->addItem(tr("Side by side"));
  mode_->addItem(tr("Wipe"));
  wipe_ = new QSlider(Qt::Horizontal, this);
  wipe_->setObjectName("wipeSlider");
  wipe_->setRange(0, 100);
  wipe_->setValue(50);
  wipe_->setEnabled(false);
  wipe_->setToolTip(tr("Drag to wipe between the baseline (left) and the responsible image (right)"));
  difference_ = new QCheckBox(tr("Difference"), this);
  difference_->setObjectName("differenceCheck");
  difference_->setToolTip(tr("Show where the responsible image differs from the baseline (amplified)"));
  controls->addWidget(new QLabel(tr("View"), this));
  controls->addWidget(mode_);
  controls->addWidget(wipe_, 1);
  controls->addWidget(difference_);
  zoom_ = new QComboBox(this);
  zoom_->setObjectName("zoomCombo");
  zoom_->addItem(tr("Fit"), 0.0);
  for (int percent : {50, 100, 200, 400, 800, 1600}) zoom_->addItem(QString("%1%").arg(percent), percent / 100.0);
  zoom_->setToolTip(tr("Zoom both sides together (Ctrl+wheel; double-click the images to fit; drag to pan)"));
  controls->addWidget(zoom_);
  layout->addLayout(controls);
  canvas_->onZoomChanged = [this](double zoom) {
    const QSignalBlocker block(zoom_);
    int index = zoom_->findData(zoom);
    if (index < 0) {
      zoom_->addItem(QString("%1%").arg(zoom * 100, 0, 'f', 0), zoom);
      index = zoom_->count() - 1;
    }
    zoom_->setCurrentIndex(index);
  };
  connect(zoom_, &QComboBox::activated, this, [this](int index) { setZoom(zoom_->itemData(index).toDouble()); });

  connect(mode_, &QComboBox::currentIndexChanged, this, [this](int index) { setMode(static_cast<Mode>(index)); });
  connect(wipe_, &QSlider::valueChanged, this, [this](int value) {
    canvas_->wipePercent = value;
    canvas_->update();
  });
  connect(difference_, &QCheckBox::toggled, this, &ComparisonView::setDifferenceShown);
}

void ComparisonView::setImages(const QList<QImage>& baseline, const QList<QImage>& responsible) {
  canvas_->baseline = grid(baseline);
  canvas_->responsible = grid(responsible);
  canvas_->difference = differenceImage(canvas_->baseline, canvas_->responsible);
  canvas_->update();
}

void ComparisonView::setPreview(const QImage& preview, bool responsibleSide) {
  (responsibleSide ? canvas_->responsible : canvas_->baseline) = preview;
  canvas_->difference = QImage();
  canvas_->update();
}

void ComparisonView::clear() { setImages({}, {}); }

QImage ComparisonView::baseline() const { return canvas_->baseline; }
QImage ComparisonView::responsible() const { return canvas_->responsible; }
QImage ComparisonView::difference() const { return canvas_->difference; }

void ComparisonView::setMode(Mode mode) {
  canvas_->mode = mode;
  mode_->setCurrentIndex(static_cast<int>(mode));
  wipe_->setEnabled(mode == Mode::Wipe);
  canvas_->update();
}

ComparisonView::Mode ComparisonView::mode() const { return canvas_->mode; }

void ComparisonView::setDifferenceShown(bool shown) {
  canvas_->showDifference = shown;
  difference_->setChecked(shown);
  canvas_->update();
}

void ComparisonView::setZoom(double zoom) { canvas_->setZoom(zoom); }

double ComparisonView::zoom() const { return canvas_->zoom; }

QImage ComparisonView::comparisonSheet(const QList<QImage>& baseline, const QList<QImage>& responsible,
                                       const QString& title, const QStringList& captions) {
  const int count = static_cast<int>(std::min(baseline.size(), responsible.size()));
  if (count == 0) return {};
  const QSize source = responsible.front().size();
  // Small images are enlarged by a whole factor (crisp pixels) to at least 256 px.
  const int factor = std::max(1, static_cast<int>(std::ceil(256.0 / std::max(1, std::min(source.width(), source.height())))));
  const QSize cell = source * factor;
  const int margin = 16, captionHeight = 22;
  QFont font;
  font.setPixelSize(13);
  const QFontMetrics metrics(font);
  const int width = 2 * cell.width() + 3 * margin;
  const QRect titleBox = metrics.boundingRect(QRect(margin, margin, width - 2 * margin, 2000), Qt::TextWordWrap, title);
  const int headerTop = titleBox.bottom() + margin;
  const int firstRow = headerTop + captionHeight;
  const int rowHeight = cell.height() + captionHeight + margin / 2;
  QImage sheet(width, firstRow + count * rowHeight + margin / 2, QImage::Format_RGB888);
  sheet.fill(Qt::white);
  QPainter p(&sheet);
  p.setFont(font);
  p.setPen(Qt::black);
  p.drawText(titleBox, Qt::TextWordWrap, title);
  QFont bold = font;
  bold.setBold(true);
  p.setFont(bold);
  p.drawText(QRect(margin, headerTop, cell.width(), captionHeight), Qt::AlignCenter, QObject::tr("Baseline"));
  p.drawText(QRect(2 * margin + cell.width(), headerTop, cell.width(), captionHeight), Qt::AlignCenter,
             QObject::tr("Responsible"));
  p.setFont(font);
  p.setRenderHint(QPainter::SmoothPixmapTransform, factor == 1);
  for (int i = 0; i < count; ++i) {
    const int top = firstRow + i * rowHeight;
    p.drawImage(QRect(QPoint(margin, top), cell), baseline[i]);
    p.drawImage(QRect(QPoint(2 * margin + cell.width(), top), cell), responsible[i]);
    if (i < captions.size())
      p.drawText(QRect(margin, top + cell.height(), width - 2 * margin, captionHeight), Qt::AlignCenter,
                 metrics.elidedText(captions[i], Qt::ElideRight, width - 2 * margin));
  }
  return sheet;
}

QImage ComparisonView::grid(const QList<QImage>& images) {
  if (images.isEmpty()) return {};
  if (images.size() == 1) return images.front();
  const int columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(images.size()))));
  const int rows = (static_cast<int>(images.size()) + columns - 1) / columns;
  const QSize cell = images.front().size();
  const int gap = std::max(1, cell.width() / 32);
  QImage out(columns * cell.width() + (columns - 1) * gap, rows * cell.height() + (rows - 1) * gap,
             QImage::Format_RGB888);
  out.fill(Qt::white);
  QPainter p(&out);
  for (int i = 0; i < images.size(); ++i)
    p.drawImage(QPoint((i % columns) * (cell.width() + gap), (i / columns) * (cell.height() + gap)), images[i]);
  return out;
}

QImage ComparisonView::differenceImage(const QImage& a, const QImage& b) {
  if (a.isNull() || b.isNull() || a.size() != b.size()) return {};
  const QImage x = a.convertToFormat(QImage::Format_RGB888), y = b.convertToFormat(QImage::Format_RGB888);
  QImage out(x.size(), QImage::Format_RGB888);
  for (int row = 0; row < x.height(); ++row) {
    const uchar* p = x.constScanLine(row);
    const uchar* q = y.constScanLine(row);
    uchar* o = out.scanLine(row);
    // x4 so that the small changes a strength makes are visible.
    for (int i = 0; i < x.width() * 3; ++i) o[i] = static_cast<uchar>(std::min(255, 4 * std::abs(p[i] - q[i])));
  }
  return out;
}

}  // namespace respo::ui
