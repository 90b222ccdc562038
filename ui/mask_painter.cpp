#include "ui/mask_painter.h"

#include <algorithm>

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace respo::ui {

MaskCanvas::MaskCanvas(const QImage& picture, const QImage& mask, QWidget* parent)
    : QWidget(parent), picture_(picture.convertToFormat(QImage::Format_RGB888)) {
  setObjectName("maskCanvas");
  if (!mask.isNull() && mask.size() == picture_.size()) {
    mask_ = mask.convertToFormat(QImage::Format_Grayscale8);
  } else {
    mask_ = QImage(picture_.size(), QImage::Format_Grayscale8);
    mask_.fill(0);
  }
  brush_ = std::max(1, std::min(picture_.width(), picture_.height()) / 16);
  setMouseTracking(false);
  setCursor(Qt::CrossCursor);
}

QSize MaskCanvas::sizeHint() const {
  // Small pictures are shown larger, so a brush stroke can be placed.
  const int scale = std::max(1, 384 / std::max(1, std::max(picture_.width(), picture_.height())));
  return picture_.size() * scale;
}

QRectF MaskCanvas::pictureRect() const {
  const QSizeF fitted = QSizeF(picture_.size()).scaled(QSizeF(size()), Qt::KeepAspectRatio);
  return {QPointF((width() - fitted.width()) / 2, (height() - fitted.height()) / 2), fitted};
}

void MaskCanvas::clear() {
  mask_.fill(0);
  update();
}

void MaskCanvas::fillAll() {
  mask_.fill(255);
  update();
}

void MaskCanvas::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  const QRectF target = pictureRect();
  p.drawImage(target, picture_);
  // The painted region in translucent red.
  QImage overlay(mask_.size(), QImage::Format_ARGB32);
  overlay.fill(Qt::transparent);
  for (int y = 0; y < mask_.height(); ++y) {
    const auto* m = mask_.constScanLine(y);
    auto* o = reinterpret_cast<QRgb*>(overlay.scanLine(y));
    for (int x = 0; x < mask_.width(); ++x)
      if (m[x] >= 128) o[x] = qRgba(230, 40, 40, 140);
  }
  p.drawImage(target, overlay);
}

void MaskCanvas::stroke(const QPointF& widgetPos, bool paint) {
  const QRectF target = pictureRect();
  if (target.isEmpty()) return;
  const double scale = picture_.width() / target.width();
  const QPointF to = (widgetPos - target.topLeft()) * scale;
  const QPointF from = (painting_ || erasing_) && !last_.isNull() ? last_ : to;
  QPainter p(&mask_);
  p.setRenderHint(QPainter::Antialiasing, false);
  const QColor colour = paint ? QColor(255, 255, 255) : QColor(0, 0, 0);
  p.setPen(QPen(colour, 2.0 * brush_, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
  p.drawLine(from, to);
  last_ = to;
  update();
}

void MaskCanvas::mousePressEvent(QMouseEvent* event) {
  last_ = QPointF();
  if (event->button() == Qt::LeftButton) {
    painting_ = true;
    stroke(event->position(), true);
  } else if (event->button() == Qt::RightButton) {
    erasing_ = true;
    stroke(event->position(), false);
  }
}

void MaskCanvas::mouseMoveEvent(QMouseEvent* event) {
  if (painting_ || erasing_) stroke(event->position(), painting_);
}

void MaskCanvas::mouseReleaseEvent(QMouseEvent*) {
  painting_ = erasing_ = false;
  last_ = QPointF();
}

MaskPainterDialog::MaskPainterDialog(const QImage& picture, const QImage& mask, double blur, QWidget* parent)
    : QDialog(parent) {
  setObjectName("maskPainterDialog");
  setWindowTitle(tr("Paint the region to repaint"));
  auto* layout = new QVBoxLayout(this);
  auto* help = new QLabel(tr("Left button: paint what is redrawn (red). Right button: erase. "
                             "Unpainted parts of the picture are kept."), this);
  help->setWordWrap(true);
  layout->addWidget(help);
  canvas_ = new MaskCanvas(picture, mask, this);
  layout->addWidget(canvas_, 1);
  auto* row = new QHBoxLayout;
  row->addWidget(new QLabel(tr("Brush"), this));
  brush_ = new QSpinBox(this);
  brush_->setObjectName("maskBrushSpin");
  brush_->setRange(1, 512);
  brush_->setSuffix(tr(" px"));
  brush_->setValue(std::max(1, std::min(picture.width(), picture.height()) / 16));
  connect(brush_, &QSpinBox::valueChanged, canvas_, &MaskCanvas::setBrush);
  row->addWidget(brush_);
  auto* clear = new QPushButton(tr("Clear"), this);
  clear->setObjectName("maskClearButton");
  connect(clear, &QPushButton::clicked, canvas_, &MaskCanvas::clear);
  auto* fill = new QPushButton(tr("Fill"), this);
  fill->setObjectName("maskFillButton");
  connect(fill, &QPushButton::clicked, canvas_, &MaskCanvas::fillAll);
  row->addWidget(clear);
  row->addWidget(fill);
  row->addWidget(new QLabel(tr("Edge blur"), this));
  blur_ = new QSpinBox(this);
  blur_->setObjectName("maskBlurSpin");
  blur_->setRange(0, 64);
  blur_->setSuffix(tr(" px"));
  blur_->setValue(static_cast<int>(blur));
  blur_->setToolTip(tr("Rounds the painted region's edges before it is used (A1111's mask blur)"));
  row->addWidget(blur_);
  row->addStretch(1);
  layout->addLayout(row);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  layout->addWidget(buttons);
}

QImage MaskPainterDialog::mask() const { return canvas_->mask(); }

double MaskPainterDialog::blur() const { return blur_->value(); }

}  // namespace respo::ui
